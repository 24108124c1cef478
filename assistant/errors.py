"""One exception type for everything a user can cause or fix.

The message is meant to be shown as-is: the CLI prints it, the web UI raises it as gr.Error.
"""


class AssistantError(Exception):
    def __init__(self, message: str, *, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message
