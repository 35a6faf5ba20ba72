"""Seed endpoints 9-10 under /properties, plus the public card, search, edit and delete."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile, status

from listings_service.api.deps import Container, CurrentUser, ReadSession, Seller, UnitOfWorkDep
from listings_service.domain.listings import RevealsThrottled
from listings_service.domain.media import DOCUMENT_FIELDS, LAYOUT_FIELDS, ListingFiles, read_listing_files
from listings_service.models import Owner, Property
from listings_service.schemas import (
    CLEARABLE_FIELDS,
    ContactOut,
    ListingCreate,
    ListingUpdate,
    Message,
    OwnerOut,
    PropertyCard,
    PropertyOut,
    PropertyPage,
    SearchQuery,
    Status,
)
from service_kit.errors import Refusal, error_responses
from service_kit.security import Principal, optional_principal
from service_kit.uploads import MediaStore

router = APIRouter(prefix="/properties", tags=["properties"])

Images = Annotated[
    list[UploadFile] | None, File(description="JPEG, PNG or WebP, in display order; the first is the cover")
]
Picture = Annotated[UploadFile | None, File(description="JPEG, PNG or WebP")]
Pdf = Annotated[UploadFile | None, File(description="PDF")]
PropertyId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Viewer = Annotated[Principal | None, Depends(optional_principal)]

_SELLERS_ONLY = (status.HTTP_403_FORBIDDEN, "Only realtors, agencies and developers (code `role_forbidden`)")
_OWNER_ONLY = (status.HTTP_403_FORBIDDEN, "Only the owner may change it (code `not_owner`)")
_NO_PROPERTY = (status.HTTP_404_NOT_FOUND, "No such property (or an archived one of someone else)")
_FILES_TOO_LARGE = (status.HTTP_413_CONTENT_TOO_LARGE, "A file, or the files together, over the size limit")
_GATEWAY_LIMIT = (status.HTTP_429_TOO_MANY_REQUESTS, "Over the gateway's rate limit for this client")


def property_out(listing: Property, media: MediaStore, *, owner_view: bool) -> PropertyOut:
    """Files as URLs; documents (title deeds and the like) are shown to the owner only."""
    files = {name: media.url(getattr(listing, name)) for name in LAYOUT_FIELDS}
    documents = {name: media.url(getattr(listing, name)) if owner_view else None for name in DOCUMENT_FIELDS}
    return PropertyOut.model_validate(
        {
            **{column: getattr(listing, column) for column in PropertyOut.model_fields if hasattr(Property, column)},
            "price": float(listing.price),
            "price_rub": float(listing.price_rub),
            "images": [media.url(name) for name in listing.images],
            "cover_image_url": media.url(listing.images[0] if listing.images else None),
            **files,
            **documents,
            # The deprecated names of the same files.
            **{f"{name}_url": url for name, url in files.items()},
            "document_file_urls": [url for url in documents.values() if url],
        }
    )


async def uploaded_files(
    container: Container,
    images: Images = None,
    layout: Picture = None,
    building_layout: Picture = None,
    territory_layout: Picture = None,
    document_file1: Pdf = None,
    document_file2: Pdf = None,
    document_file3: Pdf = None,
) -> ListingFiles:
    """The seed's file fields of a listing, checked (create and edit take the same ones)."""
    return await read_listing_files(
        container.upload_limits,
        images,
        {
            "layout": layout,
            "building_layout": building_layout,
            "territory_layout": territory_layout,
            "document_file1": document_file1,
            "document_file2": document_file2,
            "document_file3": document_file3,
        },
    )


Uploads = Annotated[ListingFiles, Depends(uploaded_files)]


@router.post("/create", status_code=status.HTTP_201_CREATED, responses=error_responses(_SELLERS_ONLY, _FILES_TOO_LARGE))
async def create(
    form: Annotated[ListingCreate, Form()],
    seller: Seller,
    work: UnitOfWorkDep,
    container: Container,
    files: Uploads,
) -> PropertyOut:
    """Seed #9: realtors, agencies and developers publish a listing (multipart)."""
    listing = await container.listings.create(work, seller, form.model_dump(exclude_none=True), files)
    return property_out(listing, container.media, owner_view=True)


@router.get("/my_properties", responses=error_responses(_SELLERS_ONLY))
async def my_properties(
    seller: Seller,
    session: ReadSession,
    container: Container,
    skip: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, description="Capped at the configured maximum (100)")] = 20,
) -> list[PropertyOut]:
    """Seed #10: the caller's listings of every status, newest first."""
    capped = min(limit, container.settings.page_max_limit)
    page = await container.listings.of_owner(session, seller.user_id, skip, capped)
    return [property_out(listing, container.media, owner_view=True) for listing in page.items]


@router.get("", responses=error_responses(_GATEWAY_LIMIT))
async def search(filters: Annotated[SearchQuery, Query()], session: ReadSession, container: Container) -> PropertyPage:
    """Public search of active listings; prices are compared in RUB whatever their currency."""
    capped = min(filters.limit, container.settings.page_max_limit)
    page = await container.listings.search(session, filters, capped)
    return PropertyPage(
        items=[property_out(listing, container.media, owner_view=False) for listing in page.items], total=page.total
    )


@router.get("/{property_id}", responses=error_responses(_NO_PROPERTY, _GATEWAY_LIMIT))
async def card(property_id: PropertyId, viewer: Viewer, session: ReadSession, container: Container) -> PropertyCard:
    """Public card with the owner's name; their phone is revealed by POST /properties/{id}/contact."""
    listing, owner = await container.listings.card(session, property_id, viewer)
    owner_view = viewer is not None and viewer.user_id == listing.owner_id
    return PropertyCard(
        **property_out(listing, container.media, owner_view=owner_view).model_dump(),
        owner=_owner_out(listing.owner_id, owner),
    )


@router.post(
    "/{property_id}/contact",
    responses=error_responses(
        (404, "No such listing (`not_found`), or the owner's contact is not available (`contact_unavailable`)"),
        (429, "Too many phones revealed in the window (`rate_limited`)"),
    ),
)
async def reveal_contact(
    property_id: PropertyId, caller: CurrentUser, work: UnitOfWorkDep, container: Container
) -> ContactOut:
    """The owner's phone, for a signed-in caller; the owner is told (`contact.revealed`, their contacts setting).

    Limited per caller (60 an hour by default), so phone numbers cannot be harvested.
    """
    reveals = container.contact_reveals
    if not await reveals.allow(caller.user_id):
        raise RevealsThrottled(reveals.window_seconds)
    contact = await container.listings.reveal_contact(work, caller, property_id)
    return ContactOut(
        property_id=contact.property_id,
        owner_id=contact.owner_id,
        first_name=contact.first_name,
        last_name=contact.last_name,
        phone=contact.phone,
    )


def _owner_out(owner_id: int, owner: Owner | None) -> OwnerOut:
    if owner is None or owner.deleted_at is not None:  # auth's event has not arrived yet, or the account is gone
        return OwnerOut(id=owner_id, first_name=None, last_name=None, role=None)
    return OwnerOut(id=owner_id, first_name=owner.first_name, last_name=owner.last_name, role=owner.role)


async def _cleared(request: Request, form: ListingUpdate) -> dict[str, None]:
    """Optional fields sent empty (`district=`): FastAPI reads an empty form value as absent."""
    sent = await request.form()  # already parsed for the route, so read from its cache
    return {
        name: None
        for name in CLEARABLE_FIELDS
        if name in sent and all(value == "" for value in sent.getlist(name)) and getattr(form, name) is None
    }


async def _edit(
    request: Request,
    property_id: PropertyId,
    form: ListingUpdate,
    caller: Principal,
    work: UnitOfWorkDep,
    container: Container,
    files: ListingFiles,
) -> PropertyOut:
    changes: dict[str, Any] = form.model_dump(exclude_none=True) | await _cleared(request, form)
    if "status" in changes:
        changes["status"] = Status(changes["status"]).value
    listing = await container.listings.update(work, caller, property_id, changes, files)
    return property_out(listing, container.media, owner_view=True)


def form_body_only(request: Request) -> None:
    """A JSON body would parse as an empty form and silently change nothing: refuse it instead."""
    content_type = request.headers.get("content-type", "")
    if content_type and not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raise Refusal(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "Send the changes as multipart/form-data or application/x-www-form-urlencoded",
            "unsupported_media_type",
        )


_EDIT_DOC = (
    "The owner changes the fields sent (multipart or urlencoded form), `status` included; the others stay. "
    "An optional field sent empty (for example `district=`) is cleared; a comma-separated list sent empty "
    "becomes an empty list. Required fields sent empty are left as they are. "
    "`images` sent replace all images; a layout or document sent replaces that one file."
)


_EDIT_ERRORS = error_responses(
    _OWNER_ONLY,
    _NO_PROPERTY,
    _FILES_TOO_LARGE,
    (status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "Not a form body (multipart/form-data or urlencoded)"),
)


@router.patch("/{property_id}", description=_EDIT_DOC, dependencies=[Depends(form_body_only)], responses=_EDIT_ERRORS)
@router.put(
    "/{property_id}",
    description=_EDIT_DOC + " PUT is the same as PATCH.",
    dependencies=[Depends(form_body_only)],
    responses=_EDIT_ERRORS,
)
async def edit_property(
    request: Request,
    property_id: PropertyId,
    form: Annotated[ListingUpdate, Form()],
    caller: CurrentUser,
    work: UnitOfWorkDep,
    container: Container,
    files: Uploads,
) -> PropertyOut:
    return await _edit(request, property_id, form, caller, work, container, files)


@router.delete("/{property_id}", responses=error_responses(_OWNER_ONLY, _NO_PROPERTY))
async def delete_property(
    property_id: PropertyId, caller: CurrentUser, work: UnitOfWorkDep, container: Container
) -> Message:
    """The owner removes the listing for good; `property.deleted` tells the other services."""
    await container.listings.delete(work, caller, property_id)
    return Message(message="Property deleted successfully")
