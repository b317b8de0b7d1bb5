"""End-to-end tests of the moto launcher: the server it starts must behave like
CloudFormation for the product's stack (see `patches.py` and `cfn_types.py`).

The tests run on the product's real template, never on a copy of it (a hand
copy drifted from the stack). Write it, then run from the repository root:

    cargo run -q -p xtask -- synth --stack-name moto-test > /tmp/moto-sign-in.json
    TESTKIT_MOTO_TEMPLATE=/tmp/moto-sign-in.json target/venv/bin/python -m unittest discover -s local/moto -p 'test_*.py'

(`cargo xtask test` does both.) Small templates written inline cover what the
stack does not have: failing resources, unknown types, `DependsOn` probes.

One launcher process serves every test (like the Rust tests, it is started as
a child and stopped by closing its standard input); each test uses its own
stack names and domain prefixes.
"""

from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
import unittest
import zipfile
from typing import Any, ClassVar

import boto3
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE_VARIABLE = "TESTKIT_MOTO_TEMPLATE"
REGION = "us-east-1"
ACCOUNT = "123456789012"
NO_CHANGES = (
    "The submitted information didn't contain changes. "
    "Submit different information to create a change set."
)


def synthesized_template() -> dict[str, Any]:
    """The product's sign-in stack as `xtask synth` writes it."""
    path = os.environ.get(TEMPLATE_VARIABLE)
    if not path:
        # Skipping instead would let the suite pass without testing the stack.
        raise RuntimeError(
            f"{TEMPLATE_VARIABLE} is not set; these tests run on the product's template: write it with "
            "`cargo run -q -p xtask -- synth --stack-name moto-test > /tmp/moto-sign-in.json`, "
            f"then run them with {TEMPLATE_VARIABLE}=/tmp/moto-sign-in.json (`cargo xtask test` does both)"
        )
    with open(path) as file:
        return json.load(file)


class Moto:
    """The launcher as a child process, as `testkit::Moto::start()` runs it."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "launcher.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline()
        if not line.startswith("READY http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"launcher did not start: {line!r}")
        self.url = line.split()[1]

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)
        self.process.stdout.close()


def small_zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bootstrap", text)
    return buffer.getvalue()


def only_resource_of_type(template: dict[str, Any], resource_type: str) -> str:
    """The logical id of the template's one resource of a type, for ids the
    product computes (the Deployment's carries a hash of the methods)."""
    [logical_id] = [k for k, v in template["Resources"].items() if v["Type"] == resource_type]
    return logical_id


def stage_name(template: dict[str, Any]) -> str:
    return template["Resources"]["Stage"]["Properties"]["StageName"]


def greetings(template: dict[str, Any]) -> list[str]:
    """The greetings the template stores, sorted."""
    return sorted(v["Properties"]["Value"] for v in template["Resources"].values() if v["Type"] == "AWS::SSM::Parameter")


class MotoTest(unittest.TestCase):
    """The module's launcher and template, and the checks the tests share."""

    moto: ClassVar[Moto]
    template: ClassVar[dict[str, Any]]
    cf: ClassVar[Any]
    s3: ClassVar[Any]

    @classmethod
    def setUpClass(cls) -> None:
        cls.cf = cls.moto.client("cloudformation")
        cls.s3 = cls.moto.client("s3")

    # -- helpers ----------------------------------------------------------

    def real_template(self) -> dict[str, Any]:
        """A copy of the product's template that a test may edit."""
        return copy.deepcopy(self.template)

    def parameters(self, prefix: str, **overrides: str) -> list[dict[str, str]]:
        """The real template's parameters, with the code uploaded in `setUpModule`."""
        values = {
            "DomainPrefix": prefix,
            "AuthCodeBucket": "code",
            "AuthCodeKey": "auth-1.zip",
            "LoginCodeBucket": "code",
            "LoginCodeKey": "login-1.zip",
            **overrides,
        }
        return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]

    def change_set(self, stack: str, name: str, template: dict[str, Any], parameters: list[dict[str, str]], kind: str) -> dict[str, Any]:
        self.cf.create_change_set(
            StackName=stack,
            ChangeSetName=name,
            ChangeSetType=kind,
            TemplateBody=json.dumps(template),
            Parameters=parameters,
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        return self.cf.describe_change_set(StackName=stack, ChangeSetName=name)

    def deploy(self, stack: str, name: str, template: dict[str, Any], parameters: list[dict[str, str]], kind: str) -> dict[str, Any]:
        described = self.change_set(stack, name, template, parameters, kind)
        self.assertEqual(described["Status"], "CREATE_COMPLETE", described.get("StatusReason"))
        self.cf.execute_change_set(StackName=stack, ChangeSetName=name)
        return self.stack(stack)

    def stack(self, name: str) -> dict[str, Any]:
        return self.cf.describe_stacks(StackName=name)["Stacks"][0]

    def outputs(self, name: str) -> dict[str, str]:
        return {o["OutputKey"]: o["OutputValue"] for o in self.stack(name).get("Outputs", [])}

    def events(self, name: str) -> list[dict[str, Any]]:
        return self.cf.describe_stack_events(StackName=name)["StackEvents"]

    def failures(self, name: str) -> list[tuple[str, str | None]]:
        """The stack's failed events with their reasons, to show when it did not settle as expected."""
        return [(e["LogicalResourceId"], e.get("ResourceStatusReason")) for e in self.events(name) if e["ResourceStatus"].endswith("FAILED")]

    def physical_ids(self, name: str) -> dict[str, str]:
        summaries = self.cf.list_stack_resources(StackName=name)["StackResourceSummaries"]
        return {s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries}

    def assert_stack_gone(self, name: str) -> None:
        with self.assertRaises(ClientError) as caught:
            self.cf.describe_stacks(StackName=name)
        self.assertIn("does not exist", str(caught.exception))

    def assert_nothing_left(self, stack: str, ids: dict[str, str]) -> None:
        """Nothing of the stack is left in any service (the names CloudFormation
        generates for unnamed resources start with the stack's name)."""
        lam = self.moto.client("lambda")
        self.assertEqual([f["FunctionName"] for f in lam.list_functions()["Functions"] if f["FunctionName"].startswith(f"{stack}-")], [])
        iam = self.moto.client("iam")
        self.assertEqual([r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(f"{stack}-")], [])
        logs = self.moto.client("logs")
        self.assertEqual(logs.describe_log_groups(logGroupNamePrefix=f"/{stack}/")["logGroups"], [])
        ssm = self.moto.client("ssm")
        self.assertEqual(ssm.get_parameters_by_path(Path=f"/{stack}", Recursive=True)["Parameters"], [])
        dynamodb = self.moto.client("dynamodb")
        self.assertNotIn(ids["LoginTable"], dynamodb.list_tables()["TableNames"])
        self.assertNotIn(ids["LoginBucket"], [b["Name"] for b in self.s3.list_buckets()["Buckets"]])
        apigw = self.moto.client("apigateway")
        self.assertNotIn(ids["Api"], [a["id"] for a in apigw.get_rest_apis()["items"]])
        idp = self.moto.client("cognito-idp")
        self.assertNotIn(ids["UserPool"], [p["Id"] for p in idp.list_user_pools(MaxResults=60)["UserPools"]])
        self.assertNotIn("DomainDescription", {k: v for k, v in idp.describe_user_pool_domain(Domain=ids["UserPoolDomain"]).items() if v})


def setUpModule() -> None:
    """One launcher and one read of the template for every test class."""
    MotoTest.template = synthesized_template()
    MotoTest.moto = Moto()
    s3 = MotoTest.moto.client("s3")
    s3.create_bucket(Bucket="code")
    for key in ("auth-1.zip", "login-1.zip", "auth-2.zip"):
        s3.put_object(Bucket="code", Key=key, Body=small_zip(key))


def tearDownModule() -> None:
    MotoTest.moto.stop()


class SignInStackLifecycleTest(MotoTest):
    """The product's stack from create to delete, one step per test, all on
    one stack. unittest runs a class's tests in name order, so the number in
    each name is the step; tests with the same number only read the stack.
    Each step starts where the one before left the stack, so after a failed
    step the later ones are skipped instead of failing for its reason."""

    STACK: ClassVar[str] = "life"
    PREFIX: ClassVar[str] = "life-signin"
    failed_step: ClassVar[str | None] = None
    # Set by step 1; step 5 refreshes `ids` once it has replaced the client.
    created_outputs: ClassVar[dict[str, str]]
    ids: ClassVar[dict[str, str]]
    # Set by step 4: the template and parameters the stack has after it.
    updated_template: ClassVar[dict[str, Any]]
    updated_parameters: ClassVar[list[dict[str, str]]]

    def setUp(self) -> None:
        if self.failed_step:
            self.skipTest(f"an earlier step failed: {self.failed_step}")

    def run(self, result: unittest.TestResult | None = None) -> unittest.TestResult | None:
        # A test case has no public flag for its own failure; its result counts them.
        result = result if result is not None else self.defaultTestResult()
        problems = len(result.failures) + len(result.errors)
        super().run(result)
        if len(result.failures) + len(result.errors) > problems:
            type(self).failed_step = self._testMethodName
        return result

    def api_url(self) -> str:
        return f"https://{self.ids['Api']}.execute-api.{REGION}.amazonaws.com/{stage_name(self.template)}"

    # -- 1: create --------------------------------------------------------------

    def test_1_create_makes_every_resource_and_output(self) -> None:
        cls, stack = type(self), self.STACK
        created = self.deploy(stack, "create-1", self.template, self.parameters(self.PREFIX), "CREATE")
        self.assertEqual(created["StackStatus"], "CREATE_COMPLETE", self.failures(stack))
        cls.created_outputs, cls.ids = self.outputs(stack), self.physical_ids(stack)
        outputs, ids = self.created_outputs, self.ids
        self.assertEqual(set(ids), set(self.template["Resources"]))
        self.assertEqual(set(outputs), set(self.template["Outputs"]))
        self.assertEqual(outputs["UserPoolId"], ids["UserPool"])
        self.assertEqual(outputs["ClientId"], ids["UserPoolClient"])
        self.assertEqual(outputs["TableName"], ids["LoginTable"])
        self.assertEqual(outputs["BucketName"], ids["LoginBucket"])
        # Unnamed resources get names that start with the stack's, as in CloudFormation.
        self.assertTrue(outputs["TableName"].startswith(f"{stack}-LoginTable-"), outputs["TableName"])
        self.assertTrue(outputs["BucketName"].startswith(f"{stack}-loginbucket-"), outputs["BucketName"])
        self.assertEqual(outputs["ApiUrl"], self.api_url())
        self.assertEqual(outputs["SignInUrl"], f"{self.api_url()}/auth")
        self.assertEqual(outputs["CallbackUrl"], f"{self.api_url()}/auth")

    # -- 2: what step 1 made, read back from each service ------------------------

    def test_2_cognito_has_the_pool_its_domain_and_a_client_with_a_secret(self) -> None:
        stack, ids = self.STACK, self.ids
        idp = self.moto.client("cognito-idp")
        client = idp.describe_user_pool_client(UserPoolId=ids["UserPool"], ClientId=ids["UserPoolClient"])["UserPoolClient"]
        self.assertTrue(client["ClientSecret"])
        self.assertEqual(client["ClientName"], f"{stack}-web")
        self.assertEqual(client["AllowedOAuthFlows"], ["code"])
        self.assertEqual(client["AllowedOAuthScopes"], ["openid", "email"])
        self.assertTrue(client["AllowedOAuthFlowsUserPoolClient"])
        self.assertEqual(client["CallbackURLs"], [f"{self.api_url()}/auth"])
        pool = idp.describe_user_pool(UserPoolId=ids["UserPool"])["UserPool"]
        self.assertEqual(pool["Name"], f"{stack}-users")
        self.assertEqual(pool["Domain"], self.PREFIX)
        self.assertEqual(pool["Policies"]["PasswordPolicy"]["MinimumLength"], 12)
        self.assertEqual(idp.describe_user_pool_domain(Domain=self.PREFIX)["DomainDescription"]["UserPoolId"], ids["UserPool"])

    def test_2_api_has_the_authorizer_the_methods_and_the_stage(self) -> None:
        ids = self.ids
        pool_arn = self.moto.client("cognito-idp").describe_user_pool(UserPoolId=ids["UserPool"])["UserPool"]["Arn"]
        apigw = self.moto.client("apigateway")
        authorizer = apigw.get_authorizer(restApiId=ids["Api"], authorizerId=ids["Authorizer"])
        self.assertEqual(authorizer["type"], "COGNITO_USER_POOLS")
        self.assertEqual(authorizer["providerARNs"], [pool_arn])
        self.assertEqual(authorizer["identitySource"], "method.request.header.Authorization")
        method = apigw.get_method(restApiId=ids["Api"], resourceId=ids["LoginPath"], httpMethod="GET")
        self.assertEqual((method["authorizationType"], method["authorizerId"]), ("COGNITO_USER_POOLS", ids["Authorizer"]))
        self.assertEqual(method["methodIntegration"]["type"], "AWS_PROXY")
        self.assertIn(f":function:{ids['LoginFunction']}/invocations", method["methodIntegration"]["uri"])
        stage = apigw.get_stage(restApiId=ids["Api"], stageName=stage_name(self.template))
        self.assertEqual(stage["deploymentId"], ids[only_resource_of_type(self.template, "AWS::ApiGateway::Deployment")])
        # GetStage keys a route's settings by its path, "/" escaped as "~1", and method.
        self.assertEqual(stage["methodSettings"]["~1auth~1login/GET"]["throttlingBurstLimit"], self.burst_limit("/~1auth~1login"))
        self.assertEqual(stage["methodSettings"]["~1auth/GET"]["throttlingBurstLimit"], self.burst_limit("/~1auth"))
        self.assertTrue(stage["tracingEnabled"])

    def burst_limit(self, resource_path: str) -> int:
        """The template's burst limit for a route (the product's default is its own fact)."""
        settings = self.template["Resources"]["Stage"]["Properties"]["MethodSettings"]
        [limit] = [s["ThrottlingBurstLimit"] for s in settings if s["ResourcePath"] == resource_path]
        return limit

    def test_2_functions_have_their_role_environment_logs_and_permission(self) -> None:
        ids = self.ids
        lam = self.moto.client("lambda")
        config = lam.get_function(FunctionName=ids["AuthFunction"])["Configuration"]
        self.assertEqual((config["Runtime"], config["Handler"]), ("provided.al2023", "bootstrap"))
        self.assertEqual(config["Role"], f"arn:aws:iam::{ACCOUNT}:role/{ids['AuthRole']}")
        self.assertEqual(config["Environment"]["Variables"]["CLIENT_ID"], ids["UserPoolClient"])
        self.assertEqual(config["Environment"]["Variables"]["USER_POOL_ID"], ids["UserPool"])
        # The domain's Ref is its prefix.
        self.assertEqual(config["Environment"]["Variables"]["TOKEN_URL"], f"https://{self.PREFIX}.auth.{REGION}.amazoncognito.com/oauth2/token")
        self.assertEqual(config["LoggingConfig"]["LogGroup"], ids["AuthLogGroup"])
        self.assertEqual(config["LoggingConfig"]["LogFormat"], "JSON")
        login_env = lam.get_function(FunctionName=ids["LoginFunction"])["Configuration"]["Environment"]["Variables"]
        self.assertEqual(login_env["BUCKET_NAME"], self.created_outputs["BucketName"])
        policy = json.loads(lam.get_policy(FunctionName=ids["LoginFunction"])["Policy"])
        self.assertEqual(policy["Statement"][0]["Principal"], {"Service": "apigateway.amazonaws.com"})

    def test_2_log_groups_and_roles_are_the_stacks(self) -> None:
        stack, ids = self.STACK, self.ids
        logs = self.moto.client("logs")
        groups = logs.describe_log_groups(logGroupNamePrefix=f"/{stack}/")["logGroups"]
        self.assertEqual({(g["logGroupName"], g.get("retentionInDays")) for g in groups},
                         {(ids["AuthLogGroup"], 30), (ids["LoginLogGroup"], 30)})
        self.assertEqual({ids["AuthLogGroup"], ids["LoginLogGroup"]}, {f"/{stack}/auth", f"/{stack}/login"})
        iam = self.moto.client("iam")
        policy_names = [p["PolicyName"] for p in self.template["Resources"]["LoginRole"]["Properties"]["Policies"]]
        self.assertEqual(sorted(iam.list_role_policies(RoleName=ids["LoginRole"])["PolicyNames"]), sorted(policy_names))
        document = iam.get_role_policy(RoleName=ids["LoginRole"], PolicyName=policy_names[0])["PolicyDocument"]
        [put_item] = [s for s in document["Statement"] if s["Action"] == ["dynamodb:PutItem"]]
        self.assertEqual(put_item["Resource"], [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{ids['LoginTable']}"])

    def test_2_table_bucket_and_greetings_hold_the_data(self) -> None:
        stack, outputs = self.STACK, self.created_outputs
        table = self.moto.client("dynamodb").describe_table(TableName=outputs["TableName"])["Table"]
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual([k["AttributeName"] for k in table["KeySchema"]], ["username", "timestamp"])

        bucket = outputs["BucketName"]
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=bucket)["Status"], "Enabled")
        self.assertTrue(self.s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["BlockPublicAcls"])
        self.assertIn("aws:SecureTransport", self.s3.get_bucket_policy(Bucket=bucket)["Policy"])
        # The TLS-only policy is recorded but plain http to the loopback server still works.
        self.s3.put_object(Bucket=bucket, Key="probe", Body=b"x")
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="probe")["Body"].read(), b"x")
        self.s3.delete_object(Bucket=bucket, Key="probe")
        versions = self.s3.list_object_versions(Bucket=bucket)
        for version in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            self.s3.delete_object(Bucket=bucket, Key="probe", VersionId=version["VersionId"])

        ssm = self.moto.client("ssm")
        stored = ssm.get_parameters_by_path(Path=f"/{stack}/greetings")["Parameters"]
        self.assertEqual(sorted(p["Value"] for p in stored), greetings(self.template))

    def test_2_events_follow_the_dependency_order(self) -> None:
        """Every resource has CREATE_IN_PROGRESS and CREATE_COMPLETE events, in dependency order."""
        events = list(reversed(self.events(self.STACK)))
        completed = [e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "CREATE_COMPLETE"]
        started = [e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "CREATE_IN_PROGRESS"]
        self.assertEqual(set(completed), set(self.template["Resources"]) | {self.STACK})
        self.assertEqual(set(started), set(completed))
        self.assertEqual(completed[-1], self.STACK)
        deployment = only_resource_of_type(self.template, "AWS::ApiGateway::Deployment")
        self.assertLess(completed.index("AuthFunction"), completed.index("AuthMethod"))
        self.assertLess(completed.index("AuthMethod"), completed.index(deployment))
        self.assertLess(completed.index("LoginMethod"), completed.index(deployment))

    # -- 3: the same again ------------------------------------------------------

    def test_3_the_same_template_again_is_a_failed_change_set(self) -> None:
        unchanged = self.change_set(self.STACK, "same", self.template, self.parameters(self.PREFIX), "UPDATE")
        self.assertEqual(unchanged["Status"], "FAILED")
        self.assertEqual(unchanged["StatusReason"], NO_CHANGES)
        self.assertEqual(unchanged["ExecutionStatus"], "UNAVAILABLE")
        self.cf.delete_change_set(StackName=self.STACK, ChangeSetName="same")

    # -- 4, 5: updates ----------------------------------------------------------

    def test_4_new_code_and_a_new_greeting_update_in_place(self) -> None:
        """Only the function with new code and the edited parameter change."""
        cls, stack = type(self), self.STACK
        template = self.real_template()
        template["Resources"]["GreetingShalom"]["Properties"]["Value"] = "Shalom!"
        parameters = self.parameters(self.PREFIX, AuthCodeKey="auth-2.zip")
        changes = self.change_set(stack, "update-1", template, parameters, "UPDATE")["Changes"]
        self.assertEqual(
            sorted((c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"], c["ResourceChange"]["Replacement"]) for c in changes),
            [("Modify", "AuthFunction", "False"), ("Modify", "GreetingShalom", "False")],
        )
        lam = self.moto.client("lambda")
        old_sha = lam.get_function(FunctionName=self.ids["AuthFunction"])["Configuration"]["CodeSha256"]
        self.cf.execute_change_set(StackName=stack, ChangeSetName="update-1")
        self.assertEqual(self.stack(stack)["StackStatus"], "UPDATE_COMPLETE", self.failures(stack))
        cls.updated_template, cls.updated_parameters = template, parameters
        self.assertEqual(self.outputs(stack), self.created_outputs)
        self.assertEqual(self.physical_ids(stack), self.ids)
        ssm = self.moto.client("ssm")
        self.assertEqual(ssm.get_parameter(Name=self.ids["GreetingShalom"])["Parameter"]["Value"], "Shalom!")
        self.assertNotEqual(lam.get_function(FunctionName=self.ids["AuthFunction"])["Configuration"]["CodeSha256"], old_sha)

    def test_5_dropping_the_secret_replaces_the_client(self) -> None:
        """A new client id everywhere it is used."""
        stack, ids = self.STACK, self.ids
        template = copy.deepcopy(self.updated_template)
        template["Resources"]["UserPoolClient"]["Properties"]["GenerateSecret"] = False
        changes = self.change_set(stack, "update-2", template, self.updated_parameters, "UPDATE")["Changes"]
        replacement = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["Replacement"] for c in changes}
        # The function that holds the client id is listed too, as CloudFormation does.
        self.assertEqual(replacement, {"UserPoolClient": "True", "AuthFunction": "False"})
        self.cf.execute_change_set(StackName=stack, ChangeSetName="update-2")
        self.assertEqual(self.stack(stack)["StackStatus"], "UPDATE_COMPLETE", self.failures(stack))
        new_client = self.outputs(stack)["ClientId"]
        self.assertNotEqual(new_client, self.created_outputs["ClientId"])
        idp = self.moto.client("cognito-idp")
        self.assertEqual([c["ClientId"] for c in idp.list_user_pool_clients(UserPoolId=ids["UserPool"])["UserPoolClients"]], [new_client])
        env = self.moto.client("lambda").get_function(FunctionName=ids["AuthFunction"])["Configuration"]["Environment"]["Variables"]
        self.assertEqual(env["CLIENT_ID"], new_client)
        type(self).ids = self.physical_ids(stack)
        self.assertEqual(self.ids["UserPoolClient"], new_client)

    # -- 6, 7: delete -----------------------------------------------------------

    def test_6_delete_with_objects_in_the_bucket_fails_on_the_bucket(self) -> None:
        """The bucket is DELETE_FAILED, so is the stack; everything else is deleted."""
        stack, bucket = self.STACK, self.created_outputs["BucketName"]
        self.s3.put_object(Bucket=bucket, Key="ann@a.com", Body=b"2026-01-01T00:00:00Z")
        self.s3.put_object(Bucket=bucket, Key="ann@a.com", Body=b"2026-01-02T00:00:00Z")
        self.cf.delete_stack(StackName=stack)
        self.assertEqual(self.stack(stack)["StackStatus"], "DELETE_FAILED")
        failed = [e for e in self.events(stack) if e["ResourceStatus"] == "DELETE_FAILED"]
        self.assertEqual(failed[0]["LogicalResourceId"], stack)
        self.assertIn("LoginBucket", failed[0]["ResourceStatusReason"])
        self.assertEqual(failed[1]["LogicalResourceId"], "LoginBucket")
        self.assertIn("The bucket you tried to delete is not empty", failed[1]["ResourceStatusReason"])
        self.assertEqual(
            {s["LogicalResourceId"]: s["ResourceStatus"] for s in self.cf.list_stack_resources(StackName=stack)["StackResourceSummaries"]},
            {"LoginBucket": "DELETE_FAILED"},
        )
        self.assertIn(bucket, [b["Name"] for b in self.s3.list_buckets()["Buckets"]])

    def test_7_delete_once_the_bucket_is_emptied_leaves_nothing(self) -> None:
        """Emptied of every version, the bucket goes, and the stack with it."""
        stack, bucket = self.STACK, self.created_outputs["BucketName"]
        versions = self.s3.list_object_versions(Bucket=bucket)
        for version in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            self.s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
        self.cf.delete_stack(StackName=stack)
        self.assert_stack_gone(stack)
        self.assert_nothing_left(stack, self.ids)


class LauncherTest(MotoTest):
    """CloudFormation's behaviour, each test on stacks of its own."""

    # -- the product's stack, edited --------------------------------------------

    def test_every_type_updates_in_place(self) -> None:
        """A change to each resource of the stack reaches the service, and
        nothing is replaced that CloudFormation updates in place."""
        stack = "touch"
        self.deploy(stack, "c1", self.template, self.parameters("touch-signin"), "CREATE")
        ids = self.physical_ids(stack)
        dynamodb = self.moto.client("dynamodb")
        pitr = dynamodb.describe_continuous_backups(TableName=ids["LoginTable"])["ContinuousBackupsDescription"]
        self.assertEqual(pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"], "ENABLED")
        self.assertEqual(dynamodb.describe_table(TableName=ids["LoginTable"])["Table"]["SSEDescription"]["Status"], "ENABLED")

        template = self.real_template()
        r = template["Resources"]
        r["LoginTable"]["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] = False
        r["LoginBucket"]["Properties"]["LifecycleConfiguration"]["Rules"][0]["NoncurrentVersionExpiration"]["NoncurrentDays"] = 7
        r["LoginBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Sid"] = "TlsOnlyToo"
        r["UserPool"]["Properties"]["Policies"]["PasswordPolicy"]["MinimumLength"] = 14
        r["UserPoolClient"]["Properties"]["AllowedOAuthScopes"] = ["openid", "email", "profile"]
        r["Api"]["Properties"]["Description"] = "new"
        r["Authorizer"]["Properties"]["IdentitySource"] = "method.request.header.X-Token"
        r["AuthMethod"]["Properties"]["OperationName"] = "callback"
        [auth_route] = [s for s in r["Stage"]["Properties"]["MethodSettings"] if s["ResourcePath"] == "/~1auth"]
        auth_route["ThrottlingBurstLimit"] = 5
        r["AuthLogGroup"]["Properties"]["RetentionInDays"] = 7
        [auth_policy] = r["AuthRole"]["Properties"]["Policies"]
        [describe_client] = [s for s in auth_policy["PolicyDocument"]["Statement"] if s["Action"] == ["cognito-idp:DescribeUserPoolClient"]]
        describe_client["Action"] = ["cognito-idp:DescribeUserPoolClient", "cognito-idp:DescribeUserPool"]
        r["LoginFunction"]["Properties"]["MemorySize"] = 512
        r["LoginFunction"]["Properties"]["LoggingConfig"]["LogFormat"] = "Text"
        r["GreetingHello"]["Properties"]["Value"] = "Hola"
        del r["GreetingShalom"]
        del r["LoginInvokePermission"]
        changes = self.change_set(stack, "c2", template, self.parameters("touch-signin"), "UPDATE")["Changes"]
        self.assertEqual({c["ResourceChange"]["LogicalResourceId"] for c in changes if c["ResourceChange"]["Action"] == "Remove"},
                         {"GreetingShalom", "LoginInvokePermission"})
        self.assertEqual([c["ResourceChange"]["LogicalResourceId"] for c in changes if c["ResourceChange"].get("Replacement") == "True"], [])
        self.cf.execute_change_set(StackName=stack, ChangeSetName="c2")
        self.assertEqual(self.stack(stack)["StackStatus"], "UPDATE_COMPLETE", self.failures(stack))
        self.assertEqual(self.physical_ids(stack), {k: v for k, v in ids.items() if k not in ("GreetingShalom", "LoginInvokePermission")})

        pitr = dynamodb.describe_continuous_backups(TableName=ids["LoginTable"])["ContinuousBackupsDescription"]
        self.assertEqual(pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"], "DISABLED")
        rules = self.s3.get_bucket_lifecycle_configuration(Bucket=ids["LoginBucket"])["Rules"]
        self.assertEqual(rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"], 7)
        self.assertIn("TlsOnlyToo", self.s3.get_bucket_policy(Bucket=ids["LoginBucket"])["Policy"])
        idp = self.moto.client("cognito-idp")
        self.assertEqual(idp.describe_user_pool(UserPoolId=ids["UserPool"])["UserPool"]["Policies"]["PasswordPolicy"]["MinimumLength"], 14)
        client = idp.describe_user_pool_client(UserPoolId=ids["UserPool"], ClientId=ids["UserPoolClient"])["UserPoolClient"]
        self.assertEqual(client["AllowedOAuthScopes"], ["openid", "email", "profile"])
        self.assertTrue(client["ClientSecret"])
        apigw = self.moto.client("apigateway")
        self.assertEqual(apigw.get_rest_api(restApiId=ids["Api"])["description"], "new")
        self.assertEqual(apigw.get_authorizer(restApiId=ids["Api"], authorizerId=ids["Authorizer"])["identitySource"], "method.request.header.X-Token")
        self.assertEqual(apigw.get_method(restApiId=ids["Api"], resourceId=ids["AuthPath"], httpMethod="GET")["operationName"], "callback")
        stage = apigw.get_stage(restApiId=ids["Api"], stageName=stage_name(self.template))
        self.assertEqual(stage["methodSettings"]["~1auth/GET"]["throttlingBurstLimit"], 5)
        groups = self.moto.client("logs").describe_log_groups(logGroupNamePrefix=ids["AuthLogGroup"])["logGroups"]
        self.assertEqual(groups[0]["retentionInDays"], 7)
        document = self.moto.client("iam").get_role_policy(RoleName=ids["AuthRole"], PolicyName=auth_policy["PolicyName"])["PolicyDocument"]
        [statement] = [s for s in document["Statement"] if "cognito-idp:DescribeUserPoolClient" in s["Action"]]
        self.assertEqual(statement["Action"], ["cognito-idp:DescribeUserPoolClient", "cognito-idp:DescribeUserPool"])
        lam = self.moto.client("lambda")
        config = lam.get_function(FunctionName=ids["LoginFunction"])["Configuration"]
        self.assertEqual((config["MemorySize"], config["LoggingConfig"]["LogFormat"]), (512, "Text"))
        with self.assertRaises(ClientError):  # its only permission is gone
            lam.get_policy(FunctionName=ids["LoginFunction"])
        ssm = self.moto.client("ssm")
        self.assertEqual(sorted((p["Name"], p["Value"]) for p in ssm.get_parameters_by_path(Path="/touch/greetings")["Parameters"]),
                         [(ids["GreetingHello"], "Hola"), (ids["GreetingHi"], "Hi"), (ids["GreetingMarhaba"], "Marhaba")])
        self.cf.delete_stack(StackName=stack)
        self.assert_stack_gone(stack)
        self.assert_nothing_left(stack, ids)

    def test_new_deployment_logical_id_redeploys_the_stage(self) -> None:
        """How the product redeploys the API: the Deployment's logical id
        carries a hash of the methods, so a change adds a new Deployment,
        points the Stage at it and removes the old one in the cleanup."""
        stack = "redeploy"
        self.deploy(stack, "c1", self.template, self.parameters("redeploy-signin"), "CREATE")
        ids = self.physical_ids(stack)
        template = self.real_template()
        r = template["Resources"]
        old = only_resource_of_type(template, "AWS::ApiGateway::Deployment")
        r["AuthMethod"]["Properties"]["OperationName"] = "callback"
        r["DeploymentNew"] = r.pop(old)
        r["Stage"]["Properties"]["DeploymentId"] = {"Ref": "DeploymentNew"}
        changes = self.change_set(stack, "c2", template, self.parameters("redeploy-signin"), "UPDATE")["Changes"]
        self.assertEqual(
            sorted((c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"]) for c in changes),
            [("Add", "DeploymentNew"), ("Modify", "AuthMethod"), ("Modify", "Stage"), ("Remove", old)],
        )
        self.cf.execute_change_set(StackName=stack, ChangeSetName="c2")
        self.assertEqual(self.stack(stack)["StackStatus"], "UPDATE_COMPLETE", self.failures(stack))
        new_ids = self.physical_ids(stack)
        apigw = self.moto.client("apigateway")
        self.assertEqual(apigw.get_stage(restApiId=ids["Api"], stageName=stage_name(template))["deploymentId"], new_ids["DeploymentNew"])
        self.assertEqual([d["id"] for d in apigw.get_deployments(restApiId=ids["Api"])["items"]], [new_ids["DeploymentNew"]])
        events = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(self.events(stack))]
        self.assertLess(events.index(("Stage", "UPDATE_COMPLETE")), events.index((old, "DELETE_COMPLETE")))
        self.cf.delete_stack(StackName=stack)
        self.assert_stack_gone(stack)

    def test_parameters_are_checked_at_create_change_set(self) -> None:
        """The template's own constraint, its pattern when it has no
        description, and a missing value, all refused before anything is made."""
        domain_prefix = self.template["Parameters"]["DomainPrefix"]
        with self.assertRaises(ClientError) as caught:
            self.change_set("badparam", "c1", self.template, self.parameters("Not_A_Prefix"), "CREATE")
        self.assertIn(f"Parameter DomainPrefix failed to satisfy constraint: {domain_prefix['ConstraintDescription']}", str(caught.exception))
        without_description = self.real_template()
        del without_description["Parameters"]["DomainPrefix"]["ConstraintDescription"]
        with self.assertRaises(ClientError) as caught:
            self.change_set("badparam", "c1", without_description, self.parameters("Not_A_Prefix"), "CREATE")
        self.assertIn(f"Parameter 'DomainPrefix' must match pattern {domain_prefix['AllowedPattern']}", str(caught.exception))
        with self.assertRaises(ClientError) as caught:
            good = self.parameters("good-prefix")
            self.change_set("badparam", "c1", self.template, [p for p in good if p["ParameterKey"] != "AuthCodeBucket"], "CREATE")
        self.assertIn("Parameters: [AuthCodeBucket] must have values", str(caught.exception))

    def test_user_pool_attributes(self) -> None:
        """The pool's GetAtt attributes the stack does not use (its `Arn` is
        checked through the authorizer in the lifecycle)."""
        template = {
            "Resources": {"Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {"UserPoolName": "attributes"}}},
            "Outputs": {name: {"Value": {"Fn::GetAtt": ["Pool", name]}} for name in ("ProviderName", "ProviderURL", "UserPoolId")},
        }
        self.assertEqual(self.deploy("attributes", "c1", template, [], "CREATE")["StackStatus"], "CREATE_COMPLETE")
        pool = self.physical_ids("attributes")["Pool"]
        self.assertEqual(self.outputs("attributes"), {
            "ProviderName": f"cognito-idp.{REGION}.amazonaws.com/{pool}",
            "ProviderURL": f"https://cognito-idp.{REGION}.amazonaws.com/{pool}",
            "UserPoolId": pool,
        })
        self.cf.delete_stack(StackName="attributes")
        self.assert_stack_gone("attributes")

    # -- failures -------------------------------------------------------------

    def test_failed_create_rolls_back_and_can_be_deleted(self) -> None:
        stack = "broken"
        params = self.parameters("broken-signin", AuthCodeKey="missing.zip")
        result = self.deploy(stack, "create", self.template, params, "CREATE")
        self.assertEqual(result["StackStatus"], "ROLLBACK_COMPLETE")
        failed = [e for e in self.events(stack) if e["ResourceStatus"] == "CREATE_FAILED"]
        self.assertEqual([e["LogicalResourceId"] for e in failed], ["AuthFunction"])
        self.assertTrue(failed[0]["ResourceStatusReason"])
        rollback = [e for e in self.events(stack) if e["ResourceStatus"] == "ROLLBACK_IN_PROGRESS"]
        self.assertIn("[AuthFunction]", rollback[0]["ResourceStatusReason"])
        self.assertIn("[AuthFunction]", result.get("StackStatusReason", ""))
        self.assertEqual(self.physical_ids(stack), {})
        # What was made before the failure is gone again.
        functions = self.moto.client("lambda").list_functions()["Functions"]
        self.assertEqual([f["FunctionName"] for f in functions if f["FunctionName"].startswith("broken-")], [])
        idp = self.moto.client("cognito-idp")
        self.assertNotIn("broken-users", [p["Name"] for p in idp.list_user_pools(MaxResults=60)["UserPools"]])

        # A ROLLBACK_COMPLETE stack cannot be updated, only deleted; then it can be created again.
        with self.assertRaises(ClientError) as caught:
            self.change_set(stack, "retry", self.template, self.parameters("broken-signin"), "UPDATE")
        self.assertIn("ROLLBACK_COMPLETE", str(caught.exception))
        self.cf.delete_stack(StackName=stack)
        self.assert_stack_gone(stack)
        again = self.deploy(stack, "create", self.template, self.parameters("broken-signin"), "CREATE")
        self.assertEqual(again["StackStatus"], "CREATE_COMPLETE", self.failures(stack))
        self.cf.delete_stack(StackName=stack)
        self.assert_stack_gone(stack)


    def test_failed_update_rolls_back(self) -> None:
        stack = "updfail"
        template = {
            "Parameters": {"Key": {"Type": "String", "Default": "auth-1.zip"}},
            "Resources": {"Greeting": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "/updfail/g", "Type": "String", "Value": "Hello"}}},
            "Outputs": {"Greeting": {"Value": {"Ref": "Greeting"}}},
        }
        self.deploy(stack, "c1", template, [], "CREATE")
        broken = copy.deepcopy(template)
        broken["Resources"]["Greeting"]["Properties"]["Value"] = "Shalom"
        broken["Resources"]["Log"] = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/updfail/log"}}
        broken["Resources"]["Fn"] = {
            "Type": "AWS::Lambda::Function",
            "DependsOn": "Log",
            "Properties": {"Runtime": "provided.al2023", "Handler": "bootstrap", "Role": "arn:aws:iam::123456789012:role/x",
                           "Code": {"S3Bucket": "code", "S3Key": "nope.zip"}},
        }
        broken["Outputs"]["Log"] = {"Value": {"Ref": "Log"}}
        result = self.deploy(stack, "c2", broken, [], "UPDATE")
        self.assertEqual(result["StackStatus"], "UPDATE_ROLLBACK_COMPLETE")
        self.assertEqual(self.outputs(stack), {"Greeting": "/updfail/g"})
        self.assertEqual([e["LogicalResourceId"] for e in self.events(stack) if e["ResourceStatus"] == "CREATE_FAILED"], ["Fn"])
        self.assertEqual(self.moto.client("logs").describe_log_groups(logGroupNamePrefix="/updfail/")["logGroups"], [])
        self.assertEqual(self.moto.client("ssm").get_parameter(Name="/updfail/g")["Parameter"]["Value"], "Hello")
        # The stack is usable again: the same change deploys once fixed.
        fixed = copy.deepcopy(template)
        fixed["Resources"]["Greeting"]["Properties"]["Value"] = "Hi"
        self.assertEqual(self.deploy(stack, "c3", fixed, [], "UPDATE")["StackStatus"], "UPDATE_COMPLETE")
        self.assertEqual(self.moto.client("ssm").get_parameter(Name="/updfail/g")["Parameter"]["Value"], "Hi")
        self.cf.delete_stack(StackName=stack)
        self.assert_stack_gone(stack)

    def test_domain_prefix_change_fails_like_cognito(self) -> None:
        """CloudFormation creates the new domain before deleting the old one,
        and Cognito refuses a second domain for the pool."""
        stack = "domain"
        template = {
            "Parameters": {"Prefix": {"Type": "String"}},
            "Resources": {
                "Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {}},
                "Domain": {"Type": "AWS::Cognito::UserPoolDomain", "Properties": {"Domain": {"Ref": "Prefix"}, "UserPoolId": {"Ref": "Pool"}}},
            },
            "Outputs": {"Domain": {"Value": {"Ref": "Domain"}}},
        }
        self.deploy(stack, "c1", template, [{"ParameterKey": "Prefix", "ParameterValue": "old-prefix"}], "CREATE")
        changes = self.change_set(stack, "c2", template, [{"ParameterKey": "Prefix", "ParameterValue": "new-prefix"}], "UPDATE")["Changes"]
        self.assertEqual([(c["ResourceChange"]["LogicalResourceId"], c["ResourceChange"]["Replacement"]) for c in changes], [("Domain", "True")])
        self.cf.execute_change_set(StackName=stack, ChangeSetName="c2")
        self.assertEqual(self.stack(stack)["StackStatus"], "UPDATE_ROLLBACK_COMPLETE")
        failed = [e for e in self.events(stack) if e["ResourceStatus"] == "UPDATE_FAILED"]
        self.assertIn("User pool already has a domain configured", failed[0]["ResourceStatusReason"])
        rollback = [e for e in self.events(stack) if e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS"]
        self.assertEqual(rollback[0]["ResourceStatusReason"], "The following resource(s) failed to update: [Domain]. ")
        self.assertEqual(self.outputs(stack), {"Domain": "old-prefix"})
        self.cf.delete_stack(StackName=stack)
        self.assert_stack_gone(stack)

    # -- change sets ------------------------------------------------------------

    def test_change_sets_belong_to_their_stack(self) -> None:
        template = {"Resources": {"P": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": {"Fn::Sub": "/${AWS::StackName}/p"}, "Type": "String", "Value": "v"}}}}
        self.change_set("first", "deploy", template, [], "CREATE")
        self.change_set("second", "deploy", template, [], "CREATE")
        self.assertEqual(self.cf.describe_change_set(StackName="first", ChangeSetName="deploy")["StackName"], "first")
        self.assertEqual(self.cf.describe_change_set(StackName="second", ChangeSetName="deploy")["StackName"], "second")
        self.assertEqual(len(self.cf.list_change_sets(StackName="first")["Summaries"]), 1)
        self.cf.execute_change_set(StackName="second", ChangeSetName="deploy")
        self.assertEqual(self.stack("second")["StackStatus"], "CREATE_COMPLETE")
        executed = self.cf.describe_change_set(StackName="second", ChangeSetName="deploy")
        self.assertEqual(executed["ExecutionStatus"], "EXECUTE_COMPLETE")
        self.assertEqual(self.cf.list_change_sets(StackName="second")["Summaries"], [])
        # An executed change set's name can be used again.
        update = copy.deepcopy(template)
        update["Resources"]["P"]["Properties"]["Value"] = "w"
        self.assertEqual(self.change_set("second", "deploy", update, [], "UPDATE")["Status"], "CREATE_COMPLETE")
        self.assertEqual(self.stack("first")["StackStatus"], "REVIEW_IN_PROGRESS")
        with self.assertRaises(ClientError):
            self.change_set("second", "again", template, [], "CREATE")  # the stack exists
        self.cf.delete_change_set(StackName="first", ChangeSetName="deploy")
        for name in ("first", "second"):
            self.cf.delete_stack(StackName=name)
            self.assert_stack_gone(name)

    def test_review_in_progress_stack_gets_a_new_create_change_set(self) -> None:
        """`diff` of a new stack leaves it REVIEW_IN_PROGRESS (its change set
        deleted); the next deploy creates it with a new CREATE change set."""
        template = {"Resources": {"P": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "/review/p", "Type": "String", "Value": "v"}}}}
        self.change_set("review", "diff", template, [], "CREATE")
        self.cf.delete_change_set(StackName="review", ChangeSetName="diff")
        self.assertEqual(self.stack("review")["StackStatus"], "REVIEW_IN_PROGRESS")
        stack_id = self.stack("review")["StackId"]
        created = self.deploy("review", "deploy", template, [], "CREATE")
        self.assertEqual((created["StackStatus"], created["StackId"]), ("CREATE_COMPLETE", stack_id))
        self.assertEqual(len([s for s in self.cf.describe_stacks()["Stacks"] if s["StackName"] == "review"]), 1)
        self.cf.delete_stack(StackName="review")
        self.assert_stack_gone("review")

    def test_depends_on_is_honoured(self) -> None:
        # The policy names its role literally, so only DependsOn orders them.
        template = {
            "Resources": {
                "Policy": {
                    "Type": "AWS::IAM::Policy",
                    "DependsOn": "Role",
                    "Properties": {"PolicyName": "p", "Roles": ["ordered-role"],
                                   "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}},
                },
                "Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "ordered-role",
                         "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}}},
            }
        }
        self.assertEqual(self.deploy("ordered", "c1", template, [], "CREATE")["StackStatus"], "CREATE_COMPLETE")
        self.cf.delete_stack(StackName="ordered")
        self.assert_stack_gone("ordered")
        self.assertNotIn("ordered-role", [r["RoleName"] for r in self.moto.client("iam").list_roles()["Roles"]])

    def test_iam_resources_need_the_capability(self) -> None:
        role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}}}
        for properties, needed in (({}, "CAPABILITY_IAM"), ({"RoleName": "named-role"}, "CAPABILITY_NAMED_IAM")):
            template = {"Resources": {"Role": {**role, "Properties": {**role["Properties"], **properties}}}}
            with self.assertRaises(ClientError) as caught:
                self.cf.create_change_set(StackName="caps", ChangeSetName="c1", ChangeSetType="CREATE", TemplateBody=json.dumps(template))
            self.assertEqual(caught.exception.response["Error"]["Code"], "InsufficientCapabilitiesException")
            self.assertIn(needed, str(caught.exception))
        self.cf.create_change_set(StackName="caps", ChangeSetName="c1", ChangeSetType="CREATE", TemplateBody=json.dumps(template),
                                  Capabilities=["CAPABILITY_NAMED_IAM"])
        self.cf.delete_stack(StackName="caps")


    def test_events_carry_the_client_request_token(self) -> None:
        template = {"Resources": {"P": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "/tokens/p", "Type": "String", "Value": "v"}}}}
        self.change_set("tokens", "c1", template, [], "CREATE")
        self.cf.execute_change_set(StackName="tokens", ChangeSetName="c1", ClientRequestToken="deploy-1")
        tokens = {(e["LogicalResourceId"], e["ResourceStatus"]): e.get("ClientRequestToken") for e in self.events("tokens")}
        self.assertEqual(tokens[("P", "CREATE_COMPLETE")], "deploy-1")
        self.assertEqual(tokens[("tokens", "CREATE_COMPLETE")], "deploy-1")
        self.cf.delete_stack(StackName="tokens", ClientRequestToken="destroy-1")
        stack_id = self.cf.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
        deleted = [s["StackId"] for s in stack_id if s["StackName"] == "tokens"][0]
        last = self.cf.describe_stack_events(StackName=deleted)["StackEvents"][0]
        self.assertEqual((last["ResourceStatus"], last.get("ClientRequestToken")), ("DELETE_COMPLETE", "destroy-1"))

    def test_create_stack_and_update_stack_behave_like_change_sets(self) -> None:
        template = {
            "Resources": {"P": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "/direct/p", "Type": "String", "Value": "v"}}},
            "Outputs": {"P": {"Value": {"Ref": "P"}}},
        }
        self.cf.create_stack(StackName="direct", TemplateBody=json.dumps(template))
        self.assertEqual(self.stack("direct")["StackStatus"], "CREATE_COMPLETE")
        self.assertEqual(self.outputs("direct"), {"P": "/direct/p"})
        with self.assertRaises(ClientError) as caught:
            self.cf.update_stack(StackName="direct", TemplateBody=json.dumps(template))
        self.assertIn("No updates are to be performed.", str(caught.exception))
        template["Resources"]["P"]["Properties"]["Value"] = "w"
        self.cf.update_stack(StackName="direct", TemplateBody=json.dumps(template))
        self.assertEqual(self.stack("direct")["StackStatus"], "UPDATE_COMPLETE")
        self.assertEqual(self.moto.client("ssm").get_parameter(Name="/direct/p")["Parameter"]["Value"], "w")
        broken = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "provided.al2023", "Handler": "bootstrap", "Role": "arn:aws:iam::123456789012:role/x",
            "Code": {"S3Bucket": "code", "S3Key": "nope.zip"}}}}}
        self.cf.create_stack(StackName="direct-broken", TemplateBody=json.dumps(broken))
        self.assertEqual(self.stack("direct-broken")["StackStatus"], "ROLLBACK_COMPLETE")
        for name in ("direct", "direct-broken"):
            self.cf.delete_stack(StackName=name)
            self.assert_stack_gone(name)

    def test_unknown_type_is_refused_up_front(self) -> None:
        template = {"Resources": {"X": {"Type": "AWS::Nope::Thing", "Properties": {}}}}
        with self.assertRaises(ClientError) as caught:
            self.change_set("unknown", "c1", template, [], "CREATE")
        self.assertIn("Unrecognized resource types: [AWS::Nope::Thing]", str(caught.exception))

    def test_termination_protection_refuses_delete_until_turned_off(self) -> None:
        template = {"Resources": {"P": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Name": "/protected/p", "Type": "String", "Value": "v"}}}}
        self.cf.create_stack(StackName="protected", TemplateBody=json.dumps(template), Tags=[{"Key": "k", "Value": "v"}])
        self.assertFalse(self.stack("protected")["EnableTerminationProtection"])
        self.cf.update_termination_protection(StackName="protected", EnableTerminationProtection=True)
        self.assertTrue(self.stack("protected")["EnableTerminationProtection"])
        with self.assertRaises(ClientError) as caught:
            self.cf.delete_stack(StackName="protected")
        self.assertIn("cannot be deleted while TerminationProtection is enabled", str(caught.exception))
        self.assertEqual(self.stack("protected")["StackStatus"], "CREATE_COMPLETE")
        self.assertEqual(self.stack("protected")["Tags"], [{"Key": "k", "Value": "v"}])
        self.cf.update_termination_protection(StackName="protected", EnableTerminationProtection=False)
        self.cf.delete_stack(StackName="protected")
        self.assert_stack_gone("protected")

    def test_an_update_change_set_sets_the_stacks_tags(self) -> None:
        template = {"Resources": {"P": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Name": "/tagged/p", "Type": "String", "Value": "v"}}}}
        self.cf.create_stack(StackName="tagged", TemplateBody=json.dumps(template), Tags=[{"Key": "k", "Value": "1"}])
        template["Resources"]["P"]["Properties"]["Value"] = "w"
        self.cf.create_change_set(StackName="tagged", ChangeSetName="c1", ChangeSetType="UPDATE",
                                  TemplateBody=json.dumps(template), Tags=[{"Key": "k", "Value": "2"}])
        self.cf.execute_change_set(StackName="tagged", ChangeSetName="c1", ClientRequestToken="t1")
        self.assertEqual(self.stack("tagged")["Tags"], [{"Key": "k", "Value": "2"}])
        events = len(self.events("tagged"))
        # A retry of the same request (its answer lost) is not a second execution.
        self.cf.execute_change_set(StackName="tagged", ChangeSetName="c1", ClientRequestToken="t1")
        self.assertEqual(len(self.events("tagged")), events)
        self.cf.delete_stack(StackName="tagged")


if __name__ == "__main__":
    unittest.main()
