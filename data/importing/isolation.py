"""Read an untrusted file in a child process with a memory and a time limit."""

from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from data.importing.decision_model import DecisionFormatError

Result = TypeVar("Result")

# A PDF's streams are inflated whole by pdfminer and its pages rendered by PDFium (C code): a
# 400 KB file of compressed spaces took 1.3 GB, and a crash there would take the bot with it.
# Measured on the seed decision: its text layer read peaks at 141 MB resident, its scan read
# by OCR at 113 MB (and 112 MB for each Tesseract run); the limit is on address space, which
# starts at about 260 MB once the readers are loaded.
MAX_READ_MEMORY = 2 * 1024**3  # address space of the reading process and its Tesseract runs
MAX_READ_SECONDS = 600.0  # wall clock: OCR of the largest scan allowed takes a few minutes
# Forked from a server that has these imported, a read starts in milliseconds, not a second.
PRELOAD = ["data.importing.pdf_text", "data.importing.ocr", "pdfplumber", "pypdfium2", "numpy"]


def too_complex(name: str) -> DecisionFormatError:
    """The message for a file whose reading needed more memory or time than allowed."""
    return DecisionFormatError(
        f"Tệp {name} quá nặng để đọc (cần quá nhiều bộ nhớ hoặc thời gian) nên chưa nhập được. "
        "Anh/chị xuất lại PDF từ Word hoặc gửi tệp .docx."
    )


def read_isolated(
    name: str,
    read: Callable[..., Result],
    *args: Any,
    memory_bytes: int | None = None,
    seconds: float | None = None,
) -> Result:
    """read(*args) in a child process; its DecisionFormatError is re-raised here.

    Running out of memory or time, or the child dying, raises too_complex(name); the caller's
    process is never at risk.
    """
    memory_bytes = MAX_READ_MEMORY if memory_bytes is None else memory_bytes
    seconds = MAX_READ_SECONDS if seconds is None else seconds
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_run, args=(sender, memory_bytes, read, args), name=f"read {name}", daemon=True
    )
    child.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise too_complex(name)
        outcome, value = receiver.recv()
    except EOFError:  # died without answering: killed for memory, or crashed in C code
        raise too_complex(name) from None
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()
    if outcome == "result":
        return value  # type: ignore[no-any-return]
    if outcome == "memory":
        raise too_complex(name)
    if outcome == "refused":
        raise DecisionFormatError(value)
    raise RuntimeError(f"reading {name} failed in the child process: {value}")


def _run(
    sender: Connection, memory_bytes: int, read: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    """The child's side: limit memory, read, send back the result or what went wrong."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        message: tuple[str, Any] = ("result", read(*args))
    except MemoryError:
        message = ("memory", None)
    except DecisionFormatError as exc:
        message = ("refused", str(exc))
    except Exception as exc:  # sent back as text: the parent raises it as its own failure
        message = ("failed", f"{type(exc).__name__}: {exc}")
    try:
        sender.send(message)
    except MemoryError:  # the result itself did not fit
        sender.send(("memory", None))
    sender.close()


_forkserver: multiprocessing.context.ForkServerContext | None = None


def _context() -> multiprocessing.context.ForkServerContext:
    """The forkserver context, its server preloaded with the readers (started on first use)."""
    global _forkserver
    if _forkserver is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        _forkserver = context
    return _forkserver
