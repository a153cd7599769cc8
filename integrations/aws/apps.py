from django.apps import AppConfig


class AwsConfig(AppConfig):
    name = "integrations.aws"
    label = "aws"
    verbose_name = "AWS autoscaling"
    default_auto_field = "django.db.models.BigAutoField"
