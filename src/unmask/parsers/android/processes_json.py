"""AndroidQF processes.json, written by its on-device collector (``android-collector ps``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask.model import Obs
from unmask.parsers.android._common import ProcessBase, app_of_process, int_of, json_items, text_of
from unmask.parsers.base import ParseContext, Parser, Source


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectorProcess(ProcessBase):
    """One process as AndroidQF's collector saw it (``android-collector/cmd/ps.go``: pid, uid,
    ppid, filename, path, context, command_line, cwd …)."""

    kind: ClassVar[str] = "android/androidqf/process"
    summary: ClassVar[str] = "process {name} (pid {pid}, uid {uid})"
    uid: int | None = None
    path: Annotated[str | None, Obs.FILE_PATH] = None
    command_line: str | None = None
    context: str | None = None
    cwd: str | None = None


class ProcessesJsonParser(Parser):
    """AndroidQF processes.json (the collector's process list)."""

    name = "processes"
    platform = "android"
    sources = (Source.host("processes.json"),)
    records = (CollectorProcess,)

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[CollectorProcess]:
        with ctx.open(device_path) as handle:
            for n, item in enumerate(json_items(handle, ctx, device_path)):
                if not isinstance(item, dict):
                    continue
                cmd = item.get("command_line")
                argv = [str(a) for a in cmd] if isinstance(cmd, list) else []
                name = text_of(item.get("filename"), 512) or (argv[0].rsplit("/", 1)[-1] if argv else None)
                command = " ".join(argv)[:4096] or None
                app = app_of_process(argv[0] if argv else name)
                yield CollectorProcess(
                    device_path=device_path,
                    locator=f"item={n}",
                    pid=int_of(item.get("pid")),
                    ppid=int_of(item.get("ppid")),
                    uid=int_of(item.get("uid")),
                    name=name,
                    app=app,
                    path=text_of(item.get("path"), 4096),
                    command_line=command,
                    context=text_of(item.get("context"), 512),
                    cwd=text_of(item.get("cwd"), 4096),
                )
