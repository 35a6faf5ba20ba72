"""What each notification says, in the product's language. Pure: values in, title and body out."""

from dataclasses import dataclass

from event_contracts.search_requests import MatchedListing, MatchedRequest

PREVIEW_LENGTH = 200
CURRENCY_SIGNS = {"RUB": "₽", "USD": "$", "EUR": "€"}
UNKNOWN_NAME = "Пользователь"
DELETED_NAME = "Удалённый пользователь"


@dataclass(frozen=True)
class Text:
    title: str
    body: str


def display_name(first_name: str, last_name: str, *, known: bool, deleted: bool = False) -> str:
    if deleted:
        return DELETED_NAME
    name = " ".join(part for part in (first_name.strip(), last_name.strip()) if part)
    return name if known and name else UNKNOWN_NAME


def plural(count: int, one: str, few: str, many: str) -> str:
    """Russian plural forms: 1 сообщение, 2 сообщения, 5 сообщений, 21 сообщение, 11 сообщений."""
    tens, units = count % 100, count % 10
    if 11 <= tens <= 14:
        return many
    if units == 1:
        return one
    return few if 2 <= units <= 4 else many


def money(amount: float, currency: str) -> str:
    """9000000 RUB -> "9 000 000 ₽" (kopecks only when there are some)."""
    whole = round(amount, 2)
    digits = f"{whole:,.0f}" if whole == int(whole) else f"{whole:,.2f}"
    return f"{digits.replace(',', ' ')} {CURRENCY_SIGNS.get(currency, currency)}"


def rooms_of_listing(rooms: int | None) -> str | None:
    if rooms is None:
        return None
    return "студия" if rooms == 0 else f"{rooms}-комн."


def rooms_of_request(total_rooms: str | None) -> str | None:
    """The request's "studio", "2" or "4+"."""
    if total_rooms is None:
        return None
    if total_rooms == "studio":
        return "студия"
    if total_rooms.endswith("+"):
        return f"от {total_rooms[:-1]} комн."
    return f"{total_rooms}-комн."


def budget(request: MatchedRequest) -> str | None:
    low, high = request.budget_min, request.budget_max
    if low and high:
        return f"{money(low, request.currency)} – {money(high, request.currency)}"
    if high:
        return f"до {money(high, request.currency)}"
    if low:
        return f"от {money(low, request.currency)}"
    return None


def _joined(*parts: str | None) -> str:
    return ", ".join(part for part in parts if part)


def match_for_buyer(listing: MatchedListing | None) -> Text:
    if listing is None:
        return Text("Новый объект по вашей заявке", "Посмотрите объявление, подходящее под вашу заявку")
    headline = listing.title.strip() or "Объявление"
    details = _joined(listing.city, rooms_of_listing(listing.rooms), money(listing.price, listing.currency))
    return Text("Новый объект по вашей заявке", f"{headline} — {details}")


def match_for_seller(request: MatchedRequest | None) -> Text:
    if request is None:
        return Text("Покупатель ищет такой объект", "Ваше объявление подходит под заявку покупателя")
    details = _joined(request.city, request.district, rooms_of_request(request.total_rooms), budget(request))
    return Text("Покупатель ищет такой объект", f"Заявка: {details}")


def response(opener: str, *, to_seller: bool) -> Text:
    """A chat opened by ``opener``: about the recipient's listing (a buyer wrote) or their request (a seller)."""
    if to_seller:
        return Text("Новый отклик", f"{opener} хочет обсудить ваше объявление")
    return Text("Продавец откликнулся на вашу заявку", f"{opener} предлагает вам объект")


def contact(viewer: str, listing_title: str) -> Text:
    where = f" в объявлении «{listing_title.strip()}»" if listing_title.strip() else ""
    return Text("Ваш телефон посмотрели", f"{viewer} узнал(а) ваш номер{where}")


def preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_LENGTH else flat[: PREVIEW_LENGTH - 1] + "…"


def message(sender: str, text: str) -> Text:
    return Text(sender, preview(text))


def message_push(sender: str, text: str, unread_in_chat: int) -> Text:
    """The push of a chat: the latest message, and how many of the chat's messages are unread."""
    if unread_in_chat <= 1:
        return message(sender, text)
    count = f"{unread_in_chat} {plural(unread_in_chat, 'новое сообщение', 'новых сообщения', 'новых сообщений')}"
    return Text(sender, f"{count} · {preview(text)}")
