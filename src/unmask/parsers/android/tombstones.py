"""Native crash reports (tombstones) from a bugreport's ``FS/data/tombstones/``: the text form and
the protobuf form of Android 12+ (``tombstone_NN.pb``).

Text (``system/core/debuggerd/libdebuggerd/tombstone.cpp``): ``Build fingerprint: '…'``,
``Timestamp: 2023-04-12 12:32:40.518290770+0200``, ``Cmdline: …``, ``pid: N, tid: N, name: T  >>>
process <<<``, ``uid: N``, ``signal 11 (SIGSEGV), code 1 (SEGV_MAPERR), fault addr …``, ``Cause: …``,
``Abort message: '…'``. Protobuf: ``system/core/debuggerd/proto/tombstone.proto`` (Tombstone:
build_fingerprint 2, timestamp 4, pid 5, tid 6, uid 7, selinux_label 8, command_line 9,
signal_info 10 {number 1, name 2, code 3, code_name 4}, abort_message 14, causes 15
{human_readable 1}, threads 16 (map: key 1, value 2 {id 1, name 2})), read with
:mod:`unmask.formats.protobuf`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.formats import protobuf as pb
from unmask.model import Obs, Record, Timestamp
from unmask.parsers.base import ParseContext, Parser, Source

# Numbers of at most 10 digits (pids, uids and signals are 32-bit): a damaged file's 65,000-digit
# "signal" must not reach int(), which refuses more than 4,300 digits.
_PID = re.compile(r"pid: (\d{1,10}), tid: (\d{1,10}), name: (.*?)\s+>>> (.*?) <<<")
_SIGNAL = re.compile(r"signal (-?\d{1,10}) \((\w+)\), code (-?\d{1,10}) \(([^)]*)\)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Tombstone(Record):
    """One native crash: which process, which uid, which signal, why, when."""

    kind: ClassVar[str] = "android/tombstone"
    summary: ClassVar[str] = "{process_name} (uid {uid}) crashed with {signal_name}: {cause}"
    time: Timestamp | None = None
    process_name: Annotated[str | None, Obs.PROCESS] = None
    binary_path: Annotated[str | None, Obs.FILE_PATH] = None
    thread_name: str | None = None
    pid: int | None = None
    tid: int | None = None
    uid: int | None = None
    selinux_label: str | None = None
    command_line: str | None = None
    signal: int | None = None
    signal_name: str | None = None
    code_name: str | None = None
    cause: str | None = None
    abort_message: str | None = None
    build_fingerprint: str | None = None
    form: str = "text"


def _time(text: str | None) -> Timestamp | None:
    if not text:
        return None
    # "2023-04-12 12:32:40.518290770+0200": cut the nanoseconds to microseconds for ISO parsing.
    match = re.match(r"(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?([+-]\d\d:?\d\d|Z)?", text.strip())
    if not match:
        return None
    day, clock, frac, zone = match.groups()
    iso = f"{day}T{clock}" + (f".{frac[:6]}" if frac else "") + (zone or "")
    found = timeutil.parse_iso(iso)
    return found.value if found is not None and "zone" not in found.inferred else None


class TombstonesParser(Parser):
    """Tombstones (text and protobuf) under /data/tombstones."""

    name = "tombstones"
    platform = "android"
    sources = (Source("/data/tombstones/tombstone_*"),)
    records = (Tombstone,)

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Tombstone]:
        with ctx.open(device_path) as handle:
            data = handle.read(64 << 20)
        if device_path.endswith(".pb"):
            yield self._proto(device_path, data)
        else:
            yield self._text(device_path, data)

    def _text(self, device_path: str, data: bytes) -> Tombstone:
        text = data.decode("utf-8", "backslashreplace")
        if "pid: " not in text[:20000]:
            raise ArtefactError("not a tombstone (no pid line)")
        fields: dict[str, str] = {}
        pid = tid = None
        thread = process = None
        signal = None
        for line in text.splitlines()[:200]:
            if line.startswith("backtrace:"):
                break
            match = _PID.match(line)
            if match:
                pid, tid, thread, process = int(match.group(1)), int(match.group(2)), match.group(3), match.group(4)
                continue
            match = _SIGNAL.match(line)
            if match:
                signal = match
                continue
            key, sep, value = line.partition(": ")
            if sep and key in ("Build fingerprint", "Timestamp", "Cmdline", "uid", "Cause", "Abort message"):
                fields.setdefault(key, value.strip().strip("'"))
        command = fields.get("Cmdline") or process
        binary = command.split()[0] if command else None
        return Tombstone(
            device_path=device_path,
            time=_time(fields.get("Timestamp")),
            process_name=(binary.rsplit("/", 1)[-1] if binary else None),
            binary_path=binary if binary and binary.startswith("/") else None,
            thread_name=thread,
            pid=pid,
            tid=tid,
            uid=int(fields["uid"]) if fields.get("uid", "").isdigit() and len(fields["uid"]) <= 10 else None,
            command_line=command,
            signal=int(signal.group(1)) if signal else None,
            signal_name=signal.group(2) if signal else None,
            code_name=signal.group(4) if signal else None,
            cause=fields.get("Cause"),
            abort_message=fields.get("Abort message"),
            build_fingerprint=fields.get("Build fingerprint"),
        )

    def _proto(self, device_path: str, data: bytes) -> Tombstone:
        f = pb.fields(data)
        signal = pb.message(f.get(10))
        causes = [pb.text([c]) for c in f.get(15, []) if isinstance(c, bytes)]
        cause = next((pb.text(pb.fields(c).get(1)) for c in f.get(15, []) if isinstance(c, bytes)), None) if causes else None
        argv = pb.texts(f.get(9))
        tid = pb.number(f.get(6))
        thread = None
        for entry in f.get(16, []):
            if isinstance(entry, bytes):
                kv = pb.fields(entry)
                if pb.number(kv.get(1)) == tid:
                    thread = pb.text(pb.message(kv.get(2)).get(2))
        binary = argv[0] if argv else None
        return Tombstone(
            device_path=device_path,
            time=_time(pb.text(f.get(4))),
            process_name=binary.rsplit("/", 1)[-1] if binary else None,
            binary_path=binary if binary and binary.startswith("/") else None,
            thread_name=thread,
            pid=pb.number(f.get(5)),
            tid=tid,
            uid=pb.number(f.get(7)),
            selinux_label=pb.text(f.get(8)),
            command_line=" ".join(argv) or None,
            signal=pb.number(signal.get(1), signed=True),
            signal_name=pb.text(signal.get(2)),
            code_name=pb.text(signal.get(4)),
            cause=cause,
            abort_message=pb.text(f.get(14)),
            build_fingerprint=pb.text(f.get(2)),
            form="protobuf",
        )
