"""Timeline entries as sorted-set members: what a timeline page needs before hydration.

A member is four fixed-width ids: the entry (a tweet, or a retweet's own id), the original
tweet it shows, the actor (the author, or the retweeter) and the original's author. All have
score 0 and sort by the members themselves: ids are time-ordered and fixed-width, so string
order is time order, exactly, where a double score would lose precision above 2^53. A page of
members names every tweet and user to fetch next, so a read needs no lookup in between.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.ids import ID_DIGITS, sortable_id

MEMBER_LENGTH = 4 * ID_DIGITS


@dataclass(frozen=True, slots=True, order=True)
class TimelineEntry:
    entry_id: int
    original_id: int
    actor_id: int
    author_id: int

    @classmethod
    def tweet(cls, tweet_id: int, author_id: int) -> TimelineEntry:
        return cls(tweet_id, tweet_id, author_id, author_id)

    @staticmethod
    def own_prefix(tweet_id: int) -> str:
        """What the member of a tweet's own entry starts with (entry and original ids)."""
        return sortable_id(tweet_id) * 2

    @property
    def is_retweet(self) -> bool:
        return self.entry_id != self.original_id

    @property
    def member(self) -> str:
        return "".join(
            sortable_id(part)
            for part in (self.entry_id, self.original_id, self.actor_id, self.author_id)
        )

    @classmethod
    def parse(cls, member: bytes | str) -> TimelineEntry:
        text = member.decode() if isinstance(member, bytes) else member
        return cls(*(int(text[i : i + ID_DIGITS]) for i in range(0, MEMBER_LENGTH, ID_DIGITS)))


def before_bound(entry_id: int | None) -> str:
    """The exclusive upper bound of a newest-first page that ends before `entry_id`."""
    return f"({sortable_id(entry_id)}" if entry_id is not None else "+"


def earliest_per_original(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """A tweet shows once: of several entries for it, the earliest; newest first."""
    earliest: dict[int, TimelineEntry] = {}
    for entry in entries:
        kept = earliest.get(entry.original_id)
        if kept is None or entry.entry_id < kept.entry_id:
            earliest[entry.original_id] = entry
    return sorted(earliest.values(), reverse=True)
