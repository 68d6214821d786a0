"""Create the template's resources on an AWS endpoint (moto locally and in tests).

template.yaml is the single source of truth: tables, queues (with their redrive policies),
topics, the event bus and its rules, secrets and the staff user pool are created from it, and each function's
environment is resolved the way CloudFormation would resolve it. Resources that only matter in
AWS (alarms, log groups, IAM, the API definition) are read, not created.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from infra.template import load_template

ACCOUNT_ID = "123456789012"
REGION = "eu-central-1"


@dataclass(frozen=True)
class FunctionSpec:
    """A function as the local stack runs it: where its code is and how it is triggered."""

    logical_id: str
    module: str  # e.g. functions.accrue.app
    handler: str  # attribute of the module
    environment: dict[str, str]
    events: dict[str, dict[str, Any]]
    timeout: int

    def events_of_type(self, event_type: str) -> dict[str, dict[str, Any]]:
        return {name: event["Properties"] for name, event in self.events.items() if event["Type"] == event_type}


@dataclass
class Stack:
    region: str
    parameters: dict[str, str]
    template: dict[str, Any]
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)

    def queue_url(self, logical_id: str) -> str:
        return self.refs[logical_id]

    def environment(self) -> dict[str, str]:
        """The union of every function's environment; the functions share one process locally, so
        a variable must mean the same to all of them."""
        merged: dict[str, str] = {}
        for spec in self.functions.values():
            for key, value in spec.environment.items():
                if merged.setdefault(key, value) != value:
                    raise ValueError(f"{key} differs between functions ({merged[key]!r} vs {value!r})")
        return merged


class Resolver:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            intrinsic = self._intrinsics().get(key)
            if intrinsic is not None:
                return intrinsic(argument)
        return {key: self.resolve(item) for key, item in value.items()}

    def _intrinsics(self) -> dict[str, Any]:
        return {
            "Ref": lambda argument: self.ref(str(argument)),
            "Fn::GetAtt": lambda argument: self.get_att(argument[0], argument[1]),
            "Fn::Sub": self.sub,
            "Fn::Join": lambda argument: argument[0].join(str(self.resolve(item)) for item in argument[1]),
            "Fn::If": lambda argument: self.resolve(argument[1] if self.holds(argument[0]) else argument[2]),
        }

    def holds(self, condition: Any) -> bool:
        """A template condition, by name or as an expression (Equals, Not, And, Or)."""
        if isinstance(condition, str):
            return self.holds(self.stack.template["Conditions"][condition])
        ((function, argument),) = condition.items()
        if function == "Fn::Equals":
            return bool(self.resolve(argument[0]) == self.resolve(argument[1]))
        if function == "Fn::Not":
            return not self.holds(argument[0])
        if function == "Fn::And":
            return all(self.holds(item) for item in argument)
        if function == "Fn::Or":
            return any(self.holds(item) for item in argument)
        if function == "Condition":
            return self.holds(str(argument))
        raise ValueError(f"unsupported condition {function}")

    def ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": self.stack.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": "loyalty-local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.stack.parameters:
            return self.stack.parameters[name]
        if name in self.stack.refs:
            return self.stack.refs[name]
        resource = self.stack.template["Resources"].get(name) or self._generated_by_sam(name)
        if resource is None:
            raise KeyError(f"!Ref {name}: no such parameter or resource")
        return ""  # resources the local stack does not create (layers, functions, API Gateway parts)

    def _generated_by_sam(self, name: str) -> dict[str, Any] | None:
        """SAM generates resources such as <Api>UsagePlan; the local stack has no API Gateway."""
        for logical_id, resource in self.stack.template["Resources"].items():
            if resource["Type"] == "AWS::Serverless::Api" and name.startswith(logical_id):
                return dict(resource)
        return None

    def get_att(self, logical_id: str, attribute: str) -> str:
        key = (logical_id, attribute)
        if key in self.stack.attributes:
            return self.stack.attributes[key]
        if self.stack.template["Resources"][logical_id]["Type"].startswith("AWS::Serverless::"):
            return f"arn:aws:lambda:{self.stack.region}:{ACCOUNT_ID}:function:{logical_id}"
        raise KeyError(f"!GetAtt {logical_id}.{attribute}: not created yet or unknown")

    def sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], {k: self.resolve(v) for k, v in argument[1].items()}
        else:
            text, variables = argument, {}
        result, index = [], 0
        while index < len(text):
            start = text.find("${", index)
            if start < 0:
                result.append(text[index:])
                break
            end = text.index("}", start)
            result.append(text[index:start])
            name = text[start + 2 : end]
            if name in variables:
                result.append(str(variables[name]))
            elif "." in name:
                logical_id, attribute = name.split(".", 1)
                result.append(self.get_att(logical_id, attribute))
            else:
                result.append(self.ref(name))
            index = end + 1
        return "".join(result)


def _by_type(template: dict[str, Any], resource_type: str) -> list[tuple[str, dict[str, Any]]]:
    return [(name, res) for name, res in template["Resources"].items() if res["Type"] == resource_type]


def provision(
    session: Any,
    *,
    parameters: dict[str, str] | None = None,
    secret_values: dict[str, dict[str, str]] | None = None,
    queue_visibility_timeout: int | None = None,
    template: dict[str, Any] | None = None,
) -> Stack:
    """Create every resource of the template that the local stack needs, through ``session``
    (a boto3 Session pointed at moto). ``secret_values`` overrides generated secret fields."""
    template = template or load_template()
    params = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    params.update(parameters or {})
    stack = Stack(region=session.region_name, parameters=params, template=template)
    resolver = Resolver(stack)
    _create_tables(stack, resolver, session.client("dynamodb"))
    _create_secrets(stack, session.client("secretsmanager"), secret_values or {})
    _create_buses_and_topics(stack, resolver, session.client("events"), session.client("sns"))
    _create_queues(stack, resolver, session.client("sqs"), queue_visibility_timeout)
    _create_buckets(stack, resolver, session.client("s3"))
    _create_rules(stack, resolver, session.client("events"))
    _create_email_identities(stack, resolver, session.client("sesv2"))
    _create_usage_plans(stack, resolver, session.client("apigateway"))
    _create_user_pools(stack, resolver, session.client("cognito-idp"))
    _read_functions(stack, resolver)
    return stack


# What moto's CreateUserPool takes of AWS::Cognito::UserPool (the rest only matters in AWS).
USER_POOL_PROPERTIES = (
    "Policies",
    "AutoVerifiedAttributes",
    "UsernameConfiguration",
    "AdminCreateUserConfig",
    "VerificationMessageTemplate",
    "AccountRecoverySetting",
    "EmailConfiguration",
    "Schema",
)


def _create_user_pools(stack: Stack, resolver: Resolver, cognito: Any) -> None:
    """Cognito user pools and their app clients (moto checks their tokens and passwords as Cognito
    would; its e-mails are recorded by ``infra.local.moto_patches`` for the dev inbox)."""
    for name, resource in _by_type(stack.template, "AWS::Cognito::UserPool"):
        props = resolver.resolve(resource["Properties"])
        settings = {key: props[key] for key in USER_POOL_PROPERTIES if key in props}
        pool = cognito.create_user_pool(PoolName=props["UserPoolName"], **settings)
        pool_id = pool["UserPool"]["Id"]
        stack.refs[name] = pool_id
        stack.attributes[(name, "Arn")] = pool["UserPool"]["Arn"]
        stack.attributes[(name, "ProviderURL")] = f"cognito-idp.{stack.region}.amazonaws.com/{pool_id}"
    for name, resource in _by_type(stack.template, "AWS::Cognito::UserPoolClient"):
        props = resolver.resolve(resource["Properties"])
        created = cognito.create_user_pool_client(
            UserPoolId=props["UserPoolId"],
            ClientName=props["ClientName"],
            GenerateSecret=bool(props.get("GenerateSecret", False)),
            ExplicitAuthFlows=props.get("ExplicitAuthFlows", []),
        )
        stack.refs[name] = created["UserPoolClient"]["ClientId"]


def _create_usage_plans(stack: Stack, resolver: Resolver, apigateway: Any) -> None:
    """The API's usage plan (the admin function adds each merchant's key to it; API Gateway
    enforces it in AWS, the local gateway emulates its throttle)."""
    for _, resource in _by_type(stack.template, "AWS::Serverless::Api"):
        plan = resource["Properties"].get("Auth", {}).get("UsagePlan")
        if plan:
            resolved = resolver.resolve(plan)
            apigateway.create_usage_plan(
                name=resolved["UsagePlanName"],
                throttle={
                    "burstLimit": int(resolved["Throttle"]["BurstLimit"]),
                    "rateLimit": float(resolved["Throttle"]["RateLimit"]),
                },
                quota={"limit": int(resolved["Quota"]["Limit"]), "period": resolved["Quota"]["Period"]},
            )


def push_platform_parameters(session: Any) -> dict[str, str]:
    """SNS platform applications are not CloudFormation resources: in AWS they are created once
    with the FCM and APNs credentials and passed as parameters. Locally we create stand-ins."""
    sns = session.client("sns")
    created = {}
    for parameter, platform in (("FcmPlatformApplicationArn", "GCM"), ("ApnsPlatformApplicationArn", "APNS")):
        response = sns.create_platform_application(
            Name=f"local-{platform.lower()}", Platform=platform, Attributes={"PlatformCredential": "local"}
        )
        created[parameter] = response["PlatformApplicationArn"]
    return created


def _create_email_identities(stack: Stack, resolver: Resolver, sesv2: Any) -> None:
    """SES refuses to send from an unverified sender; the template's identities are verified here."""
    for name, resource in _by_type(stack.template, "AWS::SES::EmailIdentity"):
        identity = resolver.resolve(resource["Properties"])["EmailIdentity"]
        sesv2.create_email_identity(EmailIdentity=identity)
        stack.refs[name] = identity


def _create_tables(stack: Stack, resolver: Resolver, dynamodb: Any) -> None:
    for name, resource in _by_type(stack.template, "AWS::DynamoDB::Table"):
        props = resolver.resolve(resource["Properties"])
        args: dict[str, Any] = {
            "TableName": props["TableName"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        described = dynamodb.create_table(**args)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification", {})
        if ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=props["TableName"],
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        stack.refs[name] = props["TableName"]
        stack.attributes[(name, "Arn")] = described["TableArn"]
        if "LatestStreamArn" in described:
            stack.attributes[(name, "StreamArn")] = described["LatestStreamArn"]


def _create_secrets(stack: Stack, secretsmanager: Any, overrides: dict[str, dict[str, str]]) -> None:
    """Generated like GenerateSecretString would, unless a value is given."""
    for name, resource in _by_type(stack.template, "AWS::SecretsManager::Secret"):
        generate = resource["Properties"].get("GenerateSecretString", {})
        given = resource["Properties"].get("SecretString")
        value: dict[str, str] = json.loads(
            Resolver(stack).resolve(given) if given else generate.get("SecretStringTemplate", "{}")
        )
        if "GenerateStringKey" in generate:
            value[generate["GenerateStringKey"]] = secrets.token_urlsafe(int(generate.get("PasswordLength", 32)))
        value.update(overrides.get(name, {}))
        secret_name = f"local/{name}"
        created = secretsmanager.create_secret(Name=secret_name, SecretString=json.dumps(value))
        # Ref gives the ARN in AWS; the name is as good an id and stays the same across resets.
        stack.refs[name] = secret_name
        stack.attributes[(name, "Arn")] = created["ARN"]


def _create_buses_and_topics(stack: Stack, resolver: Resolver, events: Any, sns: Any) -> None:
    for name, resource in _by_type(stack.template, "AWS::Events::EventBus"):
        props = resolver.resolve(resource["Properties"])
        created = events.create_event_bus(Name=props["Name"])
        stack.refs[name] = props["Name"]
        stack.attributes[(name, "Arn")] = created["EventBusArn"]
        stack.attributes[(name, "Name")] = props["Name"]
    for name, resource in _by_type(stack.template, "AWS::SNS::Topic"):
        props = resolver.resolve(resource.get("Properties", {}))
        topic_name = props.get("TopicName", f"local-{name}")
        arn = sns.create_topic(Name=topic_name)["TopicArn"]
        stack.refs[name] = arn
        stack.attributes[(name, "TopicArn")] = arn
        stack.attributes[(name, "TopicName")] = topic_name


def _create_queues(stack: Stack, resolver: Resolver, sqs: Any, visibility_timeout: int | None) -> None:
    """Dead-letter queues first, so that redrive policies can name them."""
    queues = _by_type(stack.template, "AWS::SQS::Queue")
    queues.sort(key=lambda item: "RedrivePolicy" in item[1].get("Properties", {}))
    for name, resource in queues:
        props = resolver.resolve(resource.get("Properties", {}))
        queue_name = props.get("QueueName", f"local-{name}")
        attributes = {
            key: str(props[key])
            for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds")
            if key in props
        }
        if props.get("FifoQueue"):
            attributes["FifoQueue"] = "true"
        if visibility_timeout:
            attributes["VisibilityTimeout"] = str(visibility_timeout)
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        url = sqs.create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        stack.refs[name] = url
        stack.attributes.update({(name, "Arn"): arn, (name, "QueueName"): queue_name, (name, "QueueUrl"): url})


def _create_buckets(stack: Stack, resolver: Resolver, s3: Any) -> None:
    """Buckets by their template names (or, unnamed ones, as CloudFormation would name them), with
    their CORS rules (the web app uploads to them)."""
    for name, resource in _by_type(stack.template, "AWS::S3::Bucket"):
        props = resolver.resolve(resource.get("Properties", {}))
        bucket = props.get("BucketName") or f"local-{name.lower()}"
        configuration = {} if stack.region == "us-east-1" else {"LocationConstraint": stack.region}
        s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": configuration} if configuration else {}))
        if "CorsConfiguration" in props:
            rules = [  # CloudFormation's names are the API's but for MaxAge
                {("MaxAgeSeconds" if key == "MaxAge" else key): value for key, value in rule.items()}
                for rule in props["CorsConfiguration"]["CorsRules"]
            ]
            s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
        stack.refs[name] = bucket
        stack.attributes[(name, "Arn")] = f"arn:aws:s3:::{bucket}"


def _create_rules(stack: Stack, resolver: Resolver, events: Any) -> None:
    """EventBridge rules with event patterns; schedules are run by the local scheduler instead."""
    for name, resource in _by_type(stack.template, "AWS::Events::Rule"):
        props = resolver.resolve(resource["Properties"])
        if "EventPattern" not in props:
            continue
        bus = props.get("EventBusName", "default")
        rule = f"local-{name}"
        events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(props["EventPattern"]), State="ENABLED")
        targets = [{"Id": target["Id"], "Arn": target["Arn"]} for target in props.get("Targets", [])]
        if targets:
            events.put_targets(Rule=rule, EventBusName=bus, Targets=targets)
        stack.refs[name] = rule


def _read_functions(stack: Stack, resolver: Resolver) -> None:
    template = stack.template
    globals_function = template.get("Globals", {}).get("Function", {})
    global_env = globals_function.get("Environment", {}).get("Variables", {})
    for name, resource in _by_type(template, "AWS::Serverless::Function"):
        props = resource["Properties"]
        env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
        code_uri = str(props["CodeUri"]).strip("/")
        module_file, _, attribute = str(props["Handler"]).rpartition(".")
        stack.functions[name] = FunctionSpec(
            logical_id=name,
            module=f"{code_uri.replace('/', '.')}.{module_file}",
            handler=attribute,
            environment={key: str(resolver.resolve(value)) for key, value in env.items()},
            events=props.get("Events", {}),
            timeout=int(props.get("Timeout", globals_function.get("Timeout", 3))),
        )
