"""The publication history: which generations were live, in what order, so
`rollback` undoes the last publish rather than going to the generation with
the next lower number.

It works like an editor's undo stack. `chain` lists the states an editor can
go back to, oldest first, and `live` is the position of the live one in it.
A rollback moves `live` one step back (repeated rollbacks walk further). A
publish after rollbacks drops what was rolled back from (the redo branch)
and appends the new generation, so the next rollback returns to the state
the editor chose, never to a state they undid. Pruning keeps the chain's
last few entries, which always includes the state before the live one.

Stored as `<root>/history.json`, written atomically by the one writer (the
store, under its lock). CURRENT stays the single truth about what is live:
the history is written after CURRENT switches and reconciled with it when
read, so a crash between the two writes loses no state.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

HISTORY = "history.json"
KEPT_EVENTS = 50  # journal lines `status` can show


@dataclass
class Entry:
    """One live state: a generation's name and its random id (names can
    repeat when an index folder is rebuilt from nothing; ids do not)."""

    name: str
    id: str

    def as_dict(self) -> dict:
        return {"name": self.name, "id": self.id}


@dataclass
class History:
    chain: list[Entry] = field(default_factory=list)
    live: int = -1                      # position of the live entry in `chain`
    events: list[dict] = field(default_factory=list)
    last_number: int = 0                # highest generation number ever used here

    # ------------------------------------------------------------ reading
    @classmethod
    def load(cls, root: Path) -> "History | None":
        """The stored history, or None where there is none (an index made
        before histories existed, or a new folder) or it cannot be read."""
        try:
            data = json.loads((root / HISTORY).read_text("utf-8"))
            chain = [Entry(str(e["name"]), str(e["id"])) for e in data["chain"]]
            live = int(data["live"])
            if chain and not 0 <= live < len(chain):
                return None
            return cls(chain, live, list(data.get("events", [])), int(data.get("last_number", 0)))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @property
    def live_entry(self) -> Entry | None:
        return self.chain[self.live] if self.chain else None

    def earlier(self) -> list[Entry]:
        """The states before the live one, newest first: where a rollback,
        or a server whose live generation is damaged, may go."""
        return list(reversed(self.chain[:self.live])) if self.chain else []

    def reconcile(self, current: Entry | None) -> "History":
        """Make the history agree with CURRENT (the truth): a crash after
        CURRENT switched but before the history was written leaves CURRENT
        one step ahead, which counts as that publish or rollback."""
        if current is None or self.live_entry == current:
            return self
        for position, entry in enumerate(self.chain):
            if entry == current:
                self.live = position
                return self
        self.record_publish(current)
        return self

    # ------------------------------------------------------------ changing
    def record_publish(self, entry: Entry, keep: int | None = None) -> list[Entry]:
        """`entry` became live by a publish: the redo branch is dropped and,
        with `keep`, only the last `keep` states stay. Returns the entries
        dropped (their generations may be deleted)."""
        dropped = self.chain[self.live + 1:] if self.chain else []
        self.chain = (self.chain[:self.live + 1] if self.chain else []) + [entry]
        if keep is not None and len(self.chain) > keep:
            dropped += self.chain[:-keep]
            self.chain = self.chain[-keep:]
        self.live = len(self.chain) - 1
        self._note("publish", entry)
        return dropped

    def record_rollback(self) -> Entry:
        """Step back one state; the caller has checked `earlier()` is not empty."""
        before = self.live_entry
        self.live -= 1
        self._note("rollback", self.chain[self.live], before)
        return self.chain[self.live]

    def record_restore(self) -> Entry:
        """CURRENT was lost and the live state was made live again."""
        self._note("restore", self.chain[self.live])
        return self.chain[self.live]

    def _note(self, action: str, entry: Entry, before: Entry | None = None) -> None:
        number = _number(entry.name)
        if number is not None:
            self.last_number = max(self.last_number, number)
        event = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "action": action,
                 "generation": entry.name}
        if before is not None:
            event["from"] = before.name
        self.events = (self.events + [event])[-KEPT_EVENTS:]

    def save(self, root: Path) -> None:
        data = {"chain": [e.as_dict() for e in self.chain], "live": self.live, "events": self.events,
                "last_number": self.last_number}
        tmp = root / f".{HISTORY}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, indent=2))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, root / HISTORY)


def _number(name: str) -> int | None:
    head, _, digits = name.partition("-")
    return int(digits) if head == "gen" and digits.isdigit() else None
