"""Reading a listing's uploaded files: limits per file and per request, content checked.

Images are decoded and re-encoded by Pillow in a worker thread (CPU work must not
stall the event loop); nothing is written to disk here, so a rejected request
leaves no file behind.
"""

from dataclasses import dataclass, field

from fastapi import UploadFile

from service_kit.uploads import (
    CleanFile,
    UploadRejected,
    UploadTooLarge,
    check_pdf,
    clean_image_in_worker,
    read_limited,
)

DOCUMENT_FIELDS = ("document_file1", "document_file2", "document_file3")
LAYOUT_FIELDS = ("layout", "building_layout", "territory_layout")


@dataclass(frozen=True)
class UploadLimits:
    max_image_bytes: int
    max_pdf_bytes: int
    max_images: int
    max_total_bytes: int
    max_image_pixels: int


@dataclass
class ListingFiles:
    """Checked files of one request; ``images`` None means 'keep the current images'."""

    images: list[CleanFile] | None = None
    singles: dict[str, CleanFile] = field(default_factory=dict)

    @property
    def all(self) -> list[CleanFile]:
        return [*(self.images or []), *self.singles.values()]


class _Budget:
    def __init__(self, max_bytes: int) -> None:
        self.left = max_bytes
        self.max_bytes = max_bytes

    def spend(self, size: int, field_name: str) -> None:
        self.left -= size
        if self.left < 0:
            raise UploadTooLarge(
                field_name, f"the files together are larger than {self.max_bytes // (1024 * 1024)} MiB"
            )


async def read_listing_files(
    limits: UploadLimits, images: list[UploadFile] | None, singles: dict[str, UploadFile | None]
) -> ListingFiles:
    if images is not None and len(images) > limits.max_images:
        raise UploadRejected("images", f"{len(images)} files sent; at most {limits.max_images} images per listing")
    budget = _Budget(limits.max_total_bytes)
    files = ListingFiles()

    async def image(upload: UploadFile, name: str) -> CleanFile:
        data = await read_limited(upload, limits.max_image_bytes, name)
        budget.spend(len(data), name)
        return await clean_image_in_worker(data, name, limits.max_image_pixels)

    if images:
        files.images = [await image(upload, f"images[{index}]") for index, upload in enumerate(images)]
    for name, upload in singles.items():
        if upload is None:
            continue
        if name in DOCUMENT_FIELDS:
            data = await read_limited(upload, limits.max_pdf_bytes, name)
            budget.spend(len(data), name)
            files.singles[name] = check_pdf(data, name)
        else:
            files.singles[name] = await image(upload, name)
    return files
