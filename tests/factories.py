"""factory_boy factories: each test builds the world it needs."""

import factory
from django.contrib.auth.models import User
from django.utils import timezone

from checks.models import (
    Channel,
    Check,
    Flip,
    Member,
    Notification,
    Ping,
    Profile,
    Project,
    Reason,
    Role,
    Status,
    new_ping_key,
)
from integrations.aws.models import AwsIntegration, AwsRule


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}@example.org")
    email = factory.LazyAttribute(lambda u: u.username)
    password = factory.django.Password("password")


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    user = factory.SubFactory(UserFactory)


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    ping_key = factory.LazyFunction(new_ping_key)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class CheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Check

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"check {n}")


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    project = factory.SubFactory(ProjectFactory)
    kind = "webhook"
    config = factory.LazyFunction(dict)


class PingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ping

    owner = factory.SubFactory(CheckFactory)
    n = factory.Sequence(lambda n: n + 1)
    created = factory.LazyFunction(timezone.now)


class FlipFactory(factory.django.DjangoModelFactory):
    """A flip to down by default (reason timeout); pass new_status="up" for recovery."""

    class Meta:
        model = Flip

    owner = factory.SubFactory(CheckFactory)
    created = factory.LazyFunction(timezone.now)
    old_status = Status.UP
    new_status = Status.DOWN
    reason = factory.LazyAttribute(
        lambda f: Reason.TIMEOUT if f.new_status == Status.DOWN else Reason.NONE
    )


class NotificationFactory(factory.django.DjangoModelFactory):
    """An alert notification of a flip to a channel of the same project."""

    class Meta:
        model = Notification

    flip = factory.SubFactory(FlipFactory)
    owner = factory.LazyAttribute(lambda n: n.flip.owner if n.flip else None)
    channel = factory.SubFactory(
        ChannelFactory,
        project=factory.LazyAttribute(
            lambda c: (
                c.factory_parent.owner.project
                if c.factory_parent.owner
                else ProjectFactory()
            )
        ),
    )
    check_status = factory.LazyAttribute(
        lambda n: n.flip.new_status if n.flip else Status.DOWN
    )


class AwsIntegrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AwsIntegration

    project = factory.SubFactory(ProjectFactory)
    name = "fleet"
    regions = "us-east-1"
    credentials = "none"
    external_id = "0123456789abcdef0123456789abcdef"


class AwsRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AwsRule

    integration = factory.SubFactory(AwsIntegrationFactory)
    asg_pattern = "web*"


def api_key_for(project: Project, *, read_only: bool = False, name: str = "") -> str:
    """A new API key of the project; the full key string (only its digest is stored)."""
    from checks.services import create_api_key

    _, full = create_api_key(project=project, name=name, read_only=read_only)
    return full
