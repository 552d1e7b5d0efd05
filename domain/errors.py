"""Errors the domain raises when a command breaks an invariant."""


class DomainError(Exception):
    """A command was refused; the message is safe to show to the client."""


class InvalidTweetText(DomainError):
    """Tweet text is empty, whitespace only, or longer than the limit."""


class InvalidHandle(DomainError):
    """A handle does not follow the handle rules."""


class InvalidPassword(DomainError):
    """A password is too short or too long."""


class InvalidDisplayName(DomainError):
    """A display name is too long or contains control characters."""


class InvalidEmail(DomainError):
    """An email address is not one mail could be sent to."""


class InvalidBio(DomainError):
    """A bio is too long or contains control characters other than line breaks."""


class InvalidLocation(DomainError):
    """A latitude or longitude is outside its range."""


class ClockMovedBackwards(DomainError):
    """The wall clock went backwards further than the id generator tolerates."""


class CannotFollowSelf(DomainError):
    """A user tried to follow themselves."""


class NotTheAuthor(DomainError):
    """Only a tweet's author may delete it."""


class InvalidAttachments(DomainError):
    """A tweet's media: up to four images, or one video alone, all the author's own."""


class InvalidReadMarker(DomainError):
    """A notifications read marker is before the epoch or later than now."""


class InvalidListName(DomainError):
    """A list name is empty, too long, or contains control characters."""


class ListFull(DomainError):
    """A list already has as many members as a list may have."""
