"""Accounts, projects, team and API keys pages."""

from django.urls import path

from checks.dashboard import accounts, keys, links, projects

P = "projects/<uuid:code>"

urlpatterns = [
    path("", projects.index, name="hc-index"),
    path("accounts/signup/", accounts.signup),
    path("accounts/login/", accounts.login_view),
    path("accounts/login_link_sent/", accounts.login_link_sent),
    path("accounts/check_token/<str:uid>/<str:token>/", accounts.check_token),
    path("accounts/logout/", accounts.logout_view),
    path("accounts/profile/", accounts.profile),
    path("accounts/profile/password/", accounts.set_password),
    path("accounts/profile/email/", accounts.request_email_change),
    path("accounts/change_email/<str:token>/", accounts.change_email),
    path("accounts/close/", accounts.close_account),
    # From report emails, without logging in: the signed token is the permission.
    path("accounts/unsubscribe_reports/<str:token>/", links.unsubscribe_reports),
    path("projects/add/", projects.add_project),
    path(f"{P}/settings/", projects.project_settings),
    path(f"{P}/settings/name/", projects.rename_project),
    path(f"{P}/settings/delete/", projects.delete_project),
    path(f"{P}/settings/team/invite/", projects.invite),
    path(f"{P}/settings/team/<int:member_id>/remove/", projects.remove_member),
    path(f"{P}/settings/team/<int:member_id>/role/", projects.change_role),
    path(f"{P}/settings/transfer/", projects.transfer),
    path(f"{P}/settings/transfer/cancel/", projects.cancel_transfer),
    path(f"{P}/transfer/accept/", projects.accept_transfer),
    path(f"{P}/transfer/reject/", projects.reject_transfer),
    path(f"{P}/leave/", projects.leave_project),
    path(f"{P}/settings/keys/", keys.keys_page),
    path(f"{P}/settings/keys/<int:key_id>/revoke/", keys.revoke_key),
    path(f"{P}/settings/ping_key/", keys.create_ping_key),
    path(f"{P}/settings/ping_key/revoke/", keys.revoke_ping_key),
]
