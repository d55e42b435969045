"""An API answer rendered at once when DRF negotiated its JSON renderer: the same bytes, no template response.

A DRF ``Response`` is a template response rendered after the view returns; for a small JSON
answer on the predict path that machinery cost more than the rendering. When the negotiated
renderer is DRF's ``JSONRenderer`` (every client but a browser asking for HTML), it renders
here, with the accepted media type (``indent=``) and the content type DRF would set; any other
renderer gets a ``Response`` as before. DRF still adds its headers (``Vary: Accept``, ``Allow``).
"""

from django.http import HttpResponse
from django.http.response import HttpResponseBase
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response


def api_answer(request: Request, data: object, *, status: int = 200) -> HttpResponseBase:
    renderer = getattr(request, "accepted_renderer", None)
    if type(renderer) is not JSONRenderer:
        return Response(data, status=status)
    return HttpResponse(
        renderer.render(data, request.accepted_media_type, {}), status=status, content_type=renderer.media_type
    )
