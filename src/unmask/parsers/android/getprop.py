"""System properties (``getprop``): AndroidQF getprop.txt and the bugreport's SYSTEM PROPERTIES."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask.formats.text import Line, locator
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Source, TextParser

_PROP = re.compile(r"\[([^\]]*)\]: \[(.*)\]\Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class AndroidProperty(Record):
    """One system property (``[name]: [value]``)."""

    kind: ClassVar[str] = "android/getprop/property"
    summary: ClassVar[str] = "property {name} = {value}"
    name: Annotated[str, Obs.ANDROID_PROPERTY]
    value: str = ""


class GetpropParser(TextParser):
    """System properties as ``getprop`` prints them."""

    name = "getprop"
    platform = "android"
    sources = (Source.section("getprop"),)
    records = (AndroidProperty,)

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[AndroidProperty]:
        for line in lines:
            match = _PROP.match(line.text.strip())
            if match:
                yield AndroidProperty(device_path=device_path, locator=locator(line), name=match.group(1)[:512],
                                      value=match.group(2)[:4096])
