"""The one exception that a bad run directory raises."""


class ReportInputError(Exception):
    """Bad input (missing, empty, malformed or binary file; unknown option value).

    Its message is a single line naming the file and the problem: the CLI prints it as is on
    stderr and exits with 2, so it must make sense without a traceback.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))
