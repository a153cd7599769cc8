"""The CloudFormation template: cfn-lint clean, and it deploys into moto and routes."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATE = Path(settings.BASE_DIR) / "infra" / "aws" / "cloudformation.yaml"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
PRINCIPAL = "arn:aws:iam::111122223333:role/hcserver"

pytestmark = pytest.mark.slow


def test_cloudformation_template_passes_cfn_lint():
    result = subprocess.run(  # noqa: S603 - our own interpreter's cfn-lint
        [str(CFN_LINT), str(TEMPLATE)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def deploy(aws, **extra):
    params = {"MonitoringPrincipalArn": PRINCIPAL, "ExternalId": "x" * 32, **extra}
    cfn = aws("cloudformation")
    cfn.create_stack(
        StackName="hcserver",
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[
            {"ParameterKey": k, "ParameterValue": v} for k, v in params.items()
        ],
        Capabilities=["CAPABILITY_IAM"],
    )
    stack = cfn.describe_stacks(StackName="hcserver")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def received(aws, queue_url):
    messages = aws("sqs").receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
    )
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_stack_routes_autoscaling_and_ec2_events_to_the_queue(aws):
    outputs = deploy(aws)
    entries = [
        {
            "Source": "aws.autoscaling",
            "DetailType": "EC2 Instance Terminate Successful",
            "Detail": json.dumps({"EC2InstanceId": "i-0123456789abcdef0"}),
        },
        {
            "Source": "aws.ec2",
            "DetailType": "EC2 Instance State-change Notification",
            "Detail": json.dumps(
                {"instance-id": "i-0123456789abcdef0", "state": "running"}
            ),
        },
        {
            "Source": "aws.ec2",
            "DetailType": "EC2 Instance State-change Notification",
            "Detail": json.dumps(
                {"instance-id": "i-0123456789abcdef0", "state": "stopping"}
            ),
        },
    ]
    aws("events").put_events(Entries=entries)
    kinds = sorted(
        (e["source"], e["detail"].get("state", ""))
        for e in received(aws, outputs["QueueUrl"])
    )
    assert kinds == [("aws.autoscaling", ""), ("aws.ec2", "running")]


def test_stack_creates_the_poller_role_trusting_only_the_principal(aws):
    outputs = deploy(aws)
    name = outputs["PollerRoleArn"].rsplit("/", 1)[1]
    role = aws("iam").get_role(RoleName=name)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"AWS": PRINCIPAL}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "x" * 32}}


def test_stack_with_group_limits_hook_completion_to_that_group(aws):
    # moto skips AWS::AutoScaling::LifecycleHook; cfn-lint checks its properties.
    outputs = deploy(aws, AutoScalingGroupName="web-fleet")
    name = outputs["PollerRoleArn"].rsplit("/", 1)[1]
    policy = aws("iam").get_role_policy(RoleName=name, PolicyName="hcserver-poller")
    document = policy["PolicyDocument"]
    if isinstance(document, str):
        # moto stores CloudFormation's inline policies as a Python repr.
        document = ast.literal_eval(document)
    statements = {st["Sid"]: st for st in document["Statement"]}
    resource = statements["CompleteLifecycleHooks"]["Resource"]
    assert resource.endswith(":autoScalingGroupName/web-fleet")
    assert "sqs:SendMessage" not in json.dumps(document)
