"""Why a use case refused a request, beyond the domain's own invariants (`domain.errors`).

Each error names one failure; `api.problems` maps each to its problem+json status and title.
Must never carry HTTP details: a use case knows nothing of status codes.
"""

from __future__ import annotations


class Refused(Exception):
    """A use case refused the request; the message is safe to show to the client."""


class TweetNotFound(Refused):
    def __init__(self, tweet_id: object) -> None:
        super().__init__(f"no tweet with id {tweet_id}")
        self.tweet_id = tweet_id


class ListNotFound(Refused):
    """No such list, or it is someone else's (lists are private: the two look alike)."""

    def __init__(self, list_id: object) -> None:
        super().__init__(f"no list with id {list_id}")
        self.list_id = list_id


class UserNotFound(Refused):
    def __init__(self, handle: str) -> None:
        super().__init__(f"no user with handle {handle!r}")
        self.handle = handle


class EmailTaken(Refused):
    def __init__(self) -> None:
        super().__init__("email is taken")


class HandleTaken(Refused):
    def __init__(self, handle: str) -> None:
        super().__init__(f"handle {handle!r} is taken")
        self.handle = handle


class ReadModelBehind(Refused):
    """A rule needs a read model that has not applied the whole log yet (Redis lost data and
    it is being rebuilt), so the request cannot be decided now."""

    def __init__(self, projection: str) -> None:
        super().__init__(f"the {projection} read model is catching up with the log; retry shortly")
        self.projection = projection


class PasswordMismatch(Refused):
    """An authenticated request that must confirm the account's password gave another one."""

    def __init__(self) -> None:
        super().__init__("the password does not match this account")


class WrongCredentials(Refused):
    """No such handle, or the password does not match it (the client is not told which)."""

    def __init__(self) -> None:
        super().__init__("handle or password is wrong")


class MediaNotAccepted(Refused):
    """The upload is no image or video Chirp stores (its bytes say so, whatever it claims)."""


class MediaUnusable(Refused):
    """The upload claims a supported type but cannot be decoded, or is a decompression bomb."""
