"""What the chat rules refuse; the API maps each to a status code (REST) or an error frame (socket)."""


class ChatError(Exception):
    """Base of the refusals below; the message is shown to the client."""


class ChatNotFound(ChatError):
    pass


class NotAParticipant(ChatError):
    pass


class PropertyNotFound(ChatError):
    pass


class PropertyNotActive(ChatError):
    pass


class InvalidParticipants(ChatError):
    """Seller does not own the listing, buyer and seller are one person, or a user is deleted.

    ``field`` names the field of the request to fix (``buyer_id`` or ``seller_id``), if one is to blame.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SellerNeedsMatch(ChatError):
    """A seller tried to open a chat with a buyer none of whose requests the listing matches, and no chat exists."""


class ChatClosed(ChatError):
    pass


class EmptyMessage(ChatError):
    pass


class MessageTooLong(ChatError):
    pass
