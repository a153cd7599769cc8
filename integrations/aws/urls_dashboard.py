"""Dashboard URLs of AWS integrations, under the project."""

from django.urls import path

from integrations.aws import dashboard

urlpatterns = [
    path("projects/<uuid:code>/aws/", dashboard.aws_list, name="aws-list"),
    path("projects/<uuid:code>/aws/add/", dashboard.add_integration, name="aws-add"),
    path(
        "projects/<uuid:code>/aws/<uuid:integration>/edit/",
        dashboard.edit_integration,
        name="aws-edit",
    ),
    path(
        "projects/<uuid:code>/aws/<uuid:integration>/delete/",
        dashboard.delete_integration,
        name="aws-delete",
    ),
    path(
        "projects/<uuid:code>/aws/<uuid:integration>/rules/add/",
        dashboard.add_rule,
        name="aws-rule-add",
    ),
    path(
        "projects/<uuid:code>/aws/rules/<int:rule>/edit/",
        dashboard.edit_rule,
        name="aws-rule-edit",
    ),
    path(
        "projects/<uuid:code>/aws/rules/<int:rule>/delete/",
        dashboard.delete_rule,
        name="aws-rule-delete",
    ),
    path(
        "projects/<uuid:code>/aws/rules/<int:rule>/move/",
        dashboard.move_rule,
        name="aws-rule-move",
    ),
]
