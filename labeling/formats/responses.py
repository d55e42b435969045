"""An export as a download: the /gold/ page and the API answer with the same file."""

from collections.abc import Iterable

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from labeling import selectors
from labeling.formats import WRITERS, export_bytes


def export_response(fmt: str, rows: Iterable[dict]) -> HttpResponse | StreamingHttpResponse:
    """Rows written in ``fmt``, streamed where the format allows it, named ``tagloop-gold-[fmt-]STAMP.EXT``."""
    writer = WRITERS[fmt]
    response: HttpResponse | StreamingHttpResponse
    if writer.lines is None:  # Parquet is written whole
        data = export_bytes(rows, fmt=fmt, tag_names=selectors.tag_slugs_in_order())
        response = HttpResponse(data, content_type=writer.content_type)
    else:
        response = StreamingHttpResponse(writer.lines(rows), content_type=writer.content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    kind = "" if fmt == writer.extension else f"{fmt}-"
    response["Content-Disposition"] = f'attachment; filename="tagloop-gold-{kind}{stamp}.{writer.extension}"'
    return response
