"""The API's URL set, mounted at /api/v1/, /api/v2/ and /api/v3/ (spec 4.1).

Trailing slashes exactly as upstream: `checks/`, `pings/`, `flips/` have one;
`checks/<uuid>`, `/pause`, `/resume`, `/body` do not.
"""

from django.urls import path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from checks.api import views
from checks.api.channels import ChannelsView, ChannelTestView, ChannelView


class UniqueKeyConverter:
    # Upstream's pattern, `A-z` quirk included.
    regex = "[A-z0-9]{40}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(UniqueKeyConverter, "unique_key")

urlpatterns = [
    path("checks/", views.ChecksView.as_view()),
    path("checks/<uuid:code>", views.CheckView.as_view()),
    path("checks/<unique_key:unique_key>", views.CheckByUniqueKeyView.as_view()),
    path("checks/<uuid:code>/pause", views.PauseView.as_view()),
    path("checks/<uuid:code>/resume", views.ResumeView.as_view()),
    path("checks/<uuid:code>/pings/", views.PingsView.as_view()),
    path("checks/<uuid:code>/pings/<int:n>/body", views.PingBodyView.as_view()),
    path("checks/<uuid:code>/flips/", views.FlipsView.as_view()),
    path("checks/<unique_key:unique_key>/flips/", views.FlipsByUniqueKeyView.as_view()),
    path("channels/", ChannelsView.as_view()),
    path("channels/<uuid:code>", ChannelView.as_view()),
    path("channels/<uuid:code>/test", ChannelTestView.as_view()),
    path("badges/", views.BadgesView.as_view()),
    path("status/", views.StatusView.as_view()),
]

# Mounted once, at /api/v3/: the schema describes all three versions.
schema_urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"
    ),
]
