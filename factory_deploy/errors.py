"""The one error deploy raises: a single line that names the resource and the fix."""

from __future__ import annotations


class DeployError(Exception):
    """Deploying failed or was refused; ``str()`` is one line naming the resource and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever a service put in its message


def azure_reason(exc: BaseException) -> str:
    """What Azure said, in one line: ``<status> <code>: <message>`` when the response carried an ARM error."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    message = getattr(error, "message", None)
    status = getattr(exc, "status_code", None)
    storage_code = getattr(exc, "error_code", None)  # azure-storage errors carry the code here, the message in .message
    if storage_code and not code:
        code, message = storage_code, str(getattr(exc, "message", "")).split("RequestId:")[0].strip()
    if code or message:
        text = f"{code}: {message}" if code else str(message)
    else:
        text = getattr(exc, "reason", None) or str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{status} {text}" if status else str(text)
