"""AWS integration throughput against moto in server mode (no AWS, no network).

    .venv/bin/python -m bench.aws_poll [--instances 50]

Starts moto_server on an ephemeral port and uses a scratch SQLite database (or
DATABASE_URL's server). Scales an Auto Scaling group out to --instances, publishes
their launch events through EventBridge -> SQS, and times the poller until every
check exists; then the same for scale-in; then a reconcile that finds --instances
new members with no events at all. Prints events/s for each phase. moto answers far
faster than AWS (no long-poll latency, no throttling): read the figures as hcserver's
own cost per event, not as an end-to-end AWS latency.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.processes import ROOT


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}
    binary = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(f"{url}/moto-api/", timeout=1)
            return proc, url
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto_server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=50)
    args = parser.parse_args()
    n = args.instances

    proc, url = start_moto()
    data_dir = tempfile.mkdtemp(prefix="hc-aws-bench-")
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": url,
            "AWS_RECONCILE_MIN_AGE": "0",
            "DATA_DIR": data_dir,
            "SECRET_KEY": "bench-only",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "hcserver.settings",
        }
    )
    sys.path.insert(0, str(ROOT))
    import boto3
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from checks.models import Check
    from checks.services import create_project
    from integrations.aws import poller, reconcile
    from integrations.aws.models import AwsIntegration, AwsRule

    try:
        call_command("migrate", verbosity=0)

        def aws(service: str):  # type: ignore[no-untyped-def]
            return boto3.client(service, region_name="us-east-1", endpoint_url=url)

        ec2, asg, sqs, events = (
            aws("ec2"),
            aws("autoscaling"),
            aws("sqs"),
            aws("events"),
        )
        image = ec2.register_image(Name="base", RootDeviceName="/dev/sda1")["ImageId"]
        ec2.create_launch_template(
            LaunchTemplateName="bench", LaunchTemplateData={"ImageId": image}
        )
        for name in ("web", "batch"):
            asg.create_auto_scaling_group(
                AutoScalingGroupName=name,
                LaunchTemplate={"LaunchTemplateName": "bench", "Version": "$Latest"},
                MinSize=0,
                MaxSize=n,
                AvailabilityZones=["us-east-1a"],
            )
        queue = sqs.create_queue(QueueName="q")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        events.put_rule(
            Name="r", EventPattern=json.dumps({"source": ["aws.autoscaling"]})
        )
        events.put_targets(
            Rule="r", Targets=[{"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}]
        )
        owner = User.objects.create_user("bench@example.org")
        project = create_project(owner=owner, name="bench")
        integration = AwsIntegration.objects.create(
            project=project, credentials="default", queue_url=queue
        )
        AwsRule.objects.create(integration=integration, asg_pattern="*")

        def members(group: str) -> list[str]:
            found = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[group])
            return [i["InstanceId"] for i in found["AutoScalingGroups"][0]["Instances"]]

        def publish(detail_type: str, ids: list[str]) -> None:
            for start in range(0, len(ids), 10):
                entries = [
                    {
                        "Source": "aws.autoscaling",
                        "DetailType": detail_type,
                        "Detail": json.dumps(
                            {"EC2InstanceId": iid, "AutoScalingGroupName": "web"}
                        ),
                    }
                    for iid in ids[start : start + 10]
                ]
                events.put_events(Entries=entries)

        def timed_poll(label: str, expect: int) -> None:
            started = time.perf_counter()
            result = poller.poll(integration, wait=1, budget=600)
            elapsed = time.perf_counter() - started
            print(
                f"{label}: {result.applied} events applied in {elapsed:.2f} s "
                f"({result.applied / elapsed:.1f} events/s, incl. one empty 1 s "
                f"receive); checks now {Check.objects.count()} (expected {expect})"
            )

        asg.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=n)
        ids = members("web")
        publish("EC2 Instance Launch Successful", ids)
        timed_poll(f"scale-out 0->{n}", n)
        asg.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=0)
        publish("EC2 Instance Terminate Successful", ids)
        timed_poll(f"scale-in {n}->0", 0)

        asg.set_desired_capacity(AutoScalingGroupName="batch", DesiredCapacity=n)
        started = time.perf_counter()
        result = reconcile.reconcile(integration)
        elapsed = time.perf_counter() - started
        print(
            f"reconcile with {n} unannounced instances: {len(result.launched)} checks "
            f"created in {elapsed:.2f} s"
        )
        started = time.perf_counter()
        reconcile.reconcile(integration)
        print(f"reconcile with nothing to do: {time.perf_counter() - started:.2f} s")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
