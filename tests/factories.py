"""factory_boy factories: each test builds the world it needs."""

import factory
from django.contrib.auth.models import User

from checks.models import Channel, Check, Profile, Project, new_ping_key


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
