"""End-to-end tests of the moto launcher: the server it starts must behave like
CloudFormation for the product's stack (see `patches.py` and `cfn_types.py`).

Run from the repository root:

    target/venv/bin/python -m unittest discover -s local/moto -p 'test_*.py'

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
from typing import Any

import boto3
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "stack_template.json")) as _file:
    TEMPLATE = json.load(_file)
REGION = "us-east-1"
NO_CHANGES = (
    "The submitted information didn't contain changes. "
    "Submit different information to create a change set."
)


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


class LauncherTest(unittest.TestCase):
    moto: Moto

    @classmethod
    def setUpClass(cls) -> None:
        cls.moto = Moto()
        cls.cf = cls.moto.client("cloudformation")
        cls.s3 = cls.moto.client("s3")
        cls.s3.create_bucket(Bucket="code")
        for key in ("auth-1.zip", "login-1.zip", "auth-2.zip"):
            cls.s3.put_object(Bucket="code", Key=key, Body=small_zip(key))

    @classmethod
    def tearDownClass(cls) -> None:
        cls.moto.stop()

    # -- helpers ----------------------------------------------------------

    def parameters(self, prefix: str, **overrides: str) -> list[dict[str, str]]:
        values = {
            "DomainPrefix": prefix,
            "CodeBucket": "code",
            "AuthCodeKey": "auth-1.zip",
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

    def physical_ids(self, name: str) -> dict[str, str]:
        summaries = self.cf.list_stack_resources(StackName=name)["StackResourceSummaries"]
        return {s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries}

    def assert_stack_gone(self, name: str) -> None:
        with self.assertRaises(ClientError) as caught:
            self.cf.describe_stacks(StackName=name)
        self.assertIn("does not exist", str(caught.exception))

    # -- the product's stack, end to end ------------------------------------

    def test_stack_lifecycle_create_update_delete(self) -> None:
        stack, prefix = "life", "life-signin"
        created = self.deploy(stack, "create-1", TEMPLATE, self.parameters(prefix), "CREATE")
        self.assertEqual(created["StackStatus"], "CREATE_COMPLETE")

        outputs = self.outputs(stack)
        ids = self.physical_ids(stack)
        self.assertEqual(len(ids), len(TEMPLATE["Resources"]))
        self.assertEqual(outputs["UserPoolId"], ids["UserPool"])
        self.assertEqual(outputs["ClientId"], ids["UserPoolClient"])
        self.assertEqual(outputs["TableName"], "life-logins")
        self.assertTrue(outputs["SignInUrl"].startswith(f"https://{prefix}.auth.{REGION}.amazoncognito.com/login?client_id={ids['UserPoolClient']}"))
        self.assertEqual(outputs["ApiUrl"], f"https://{ids['RestApi']}.execute-api.{REGION}.amazonaws.com/prod")
        self.assertEqual(outputs["ProviderUrl"], f"https://cognito-idp.{REGION}.amazonaws.com/{ids['UserPool']}")
        self.assert_resources_exist(stack, prefix, outputs, ids)

        # Every resource has CREATE_IN_PROGRESS and CREATE_COMPLETE events, in dependency order.
        events = list(reversed(self.events(stack)))
        completed = [e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "CREATE_COMPLETE"]
        self.assertEqual(completed[-1], stack)
        self.assertLess(completed.index("AuthFunction"), completed.index("AuthMethod"))
        self.assertLess(completed.index("AuthMethod"), completed.index("Deployment"))
        self.assertLess(completed.index("LoginMethod"), completed.index("Deployment"))

        # Deploying the same again: the change set is FAILED "didn't contain changes".
        unchanged = self.change_set(stack, "same", TEMPLATE, self.parameters(prefix), "UPDATE")
        self.assertEqual(unchanged["Status"], "FAILED")
        self.assertEqual(unchanged["StatusReason"], NO_CHANGES)
        self.assertEqual(unchanged["ExecutionStatus"], "UNAVAILABLE")
        self.cf.delete_change_set(StackName=stack, ChangeSetName="same")

        # A new greeting and new code for one function: only those change, in place.
        template = copy.deepcopy(TEMPLATE)
        template["Resources"]["ShalomParameter"]["Properties"]["Value"] = "Marhaba"
        params = self.parameters(prefix, AuthCodeKey="auth-2.zip")
        changes = self.change_set(stack, "update-1", template, params, "UPDATE")["Changes"]
        self.assertEqual(
            sorted((c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"], c["ResourceChange"]["Replacement"]) for c in changes),
            [("Modify", "AuthFunction", "False"), ("Modify", "ShalomParameter", "False")],
        )
        lam = self.moto.client("lambda")
        old_sha = lam.get_function(FunctionName="life-auth")["Configuration"]["CodeSha256"]
        self.cf.execute_change_set(StackName=stack, ChangeSetName="update-1")
        self.assertEqual(self.stack(stack)["StackStatus"], "UPDATE_COMPLETE")
        self.assertEqual(self.outputs(stack), outputs)
        self.assertEqual(self.physical_ids(stack), ids)
        ssm = self.moto.client("ssm")
        self.assertEqual(ssm.get_parameter(Name="/life/greetings/2")["Parameter"]["Value"], "Marhaba")
        self.assertNotEqual(lam.get_function(FunctionName="life-auth")["Configuration"]["CodeSha256"], old_sha)

        # Dropping the client secret replaces the client: new id everywhere it is used.
        template2 = copy.deepcopy(template)
        template2["Resources"]["UserPoolClient"]["Properties"]["GenerateSecret"] = False
        changes = self.change_set(stack, "update-2", template2, params, "UPDATE")["Changes"]
        replacement = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["Replacement"] for c in changes}
        # The functions that hold the client id are listed too, as CloudFormation does.
        self.assertEqual(replacement, {"UserPoolClient": "True", "AuthFunction": "False"})
        self.cf.execute_change_set(StackName=stack, ChangeSetName="update-2")
        self.assertEqual(self.stack(stack)["StackStatus"], "UPDATE_COMPLETE")
        new_client = self.outputs(stack)["ClientId"]
        self.assertNotEqual(new_client, outputs["ClientId"])
        idp = self.moto.client("cognito-idp")
        self.assertEqual([c["ClientId"] for c in idp.list_user_pool_clients(UserPoolId=ids["UserPool"])["UserPoolClients"]], [new_client])
        env = lam.get_function(FunctionName="life-auth")["Configuration"]["Environment"]["Variables"]
        self.assertEqual(env["CLIENT_ID"], new_client)

        # Deleting with an object in the bucket: the bucket is DELETE_FAILED, the stack DELETE_FAILED.
        bucket = outputs["BucketName"]
        self.s3.put_object(Bucket=bucket, Key="ann@a.com", Body=b"2026-01-01T00:00:00Z")
        self.s3.put_object(Bucket=bucket, Key="ann@a.com", Body=b"2026-01-02T00:00:00Z")
        self.cf.delete_stack(StackName=stack)
        self.assertEqual(self.stack(stack)["StackStatus"], "DELETE_FAILED")
        failed = [e for e in self.events(stack) if e["ResourceStatus"] == "DELETE_FAILED"]
        self.assertEqual(failed[0]["LogicalResourceId"], stack)
        self.assertIn("DataBucket", failed[0]["ResourceStatusReason"])
        self.assertEqual(failed[1]["LogicalResourceId"], "DataBucket")
        self.assertIn("The bucket you tried to delete is not empty", failed[1]["ResourceStatusReason"])
        self.assertEqual(
            {s["LogicalResourceId"]: s["ResourceStatus"] for s in self.cf.list_stack_resources(StackName=stack)["StackResourceSummaries"]},
            {"DataBucket": "DELETE_FAILED"},
        )
        self.assertIn(bucket, [b["Name"] for b in self.s3.list_buckets()["Buckets"]])

        # Emptied of every version, it goes, and the stack with it.
        versions = self.s3.list_object_versions(Bucket=bucket)
        for version in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            self.s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
        self.cf.delete_stack(StackName=stack)
        self.assert_stack_gone(stack)
        self.assert_nothing_left("life", ids)

    def assert_resources_exist(self, stack: str, prefix: str, outputs: dict[str, str], ids: dict[str, str]) -> None:
        idp = self.moto.client("cognito-idp")
        client = idp.describe_user_pool_client(UserPoolId=ids["UserPool"], ClientId=ids["UserPoolClient"])["UserPoolClient"]
        self.assertTrue(client["ClientSecret"])
        self.assertEqual(client["ClientName"], f"{stack}-web")
        self.assertEqual(client["AllowedOAuthFlows"], ["code"])
        self.assertEqual(client["AllowedOAuthScopes"], ["openid", "email"])
        self.assertTrue(client["AllowedOAuthFlowsUserPoolClient"])
        self.assertEqual(client["CallbackURLs"], [f"https://{ids['RestApi']}.execute-api.{REGION}.amazonaws.com/prod/auth"])
        pool = idp.describe_user_pool(UserPoolId=ids["UserPool"])["UserPool"]
        self.assertEqual(pool["Name"], f"{stack}-users")
        self.assertEqual(pool["Domain"], prefix)
        self.assertEqual(pool["Policies"]["PasswordPolicy"]["MinimumLength"], 12)
        self.assertEqual(idp.describe_user_pool_domain(Domain=prefix)["DomainDescription"]["UserPoolId"], ids["UserPool"])

        apigw = self.moto.client("apigateway")
        authorizer = apigw.get_authorizer(restApiId=ids["RestApi"], authorizerId=outputs["AuthorizerId"])
        self.assertEqual(authorizer["type"], "COGNITO_USER_POOLS")
        self.assertEqual(authorizer["providerARNs"], [outputs["UserPoolArn"]])
        self.assertEqual(authorizer["identitySource"], "method.request.header.Authorization")
        method = apigw.get_method(restApiId=ids["RestApi"], resourceId=ids["LoginResource"], httpMethod="GET")
        self.assertEqual((method["authorizationType"], method["authorizerId"]), ("COGNITO_USER_POOLS", outputs["AuthorizerId"]))
        self.assertEqual(method["methodIntegration"]["type"], "AWS_PROXY")
        self.assertIn(":function:life-login/invocations", method["methodIntegration"]["uri"])
        stage = apigw.get_stage(restApiId=ids["RestApi"], stageName="prod")
        self.assertEqual(stage["deploymentId"], ids["Deployment"])
        self.assertEqual(stage["methodSettings"]["*/*"]["throttlingBurstLimit"], 20)
        self.assertTrue(stage["tracingEnabled"])

        lam = self.moto.client("lambda")
        config = lam.get_function(FunctionName=f"{stack}-auth")["Configuration"]
        self.assertEqual((config["Runtime"], config["Handler"]), ("provided.al2023", "bootstrap"))
        self.assertEqual(config["Role"], f"arn:aws:iam::123456789012:role/{stack}-auth")
        self.assertEqual(config["Environment"]["Variables"]["CLIENT_ID"], ids["UserPoolClient"])
        self.assertEqual(config["Environment"]["Variables"]["USER_POOL_ID"], ids["UserPool"])
        self.assertEqual(config["LoggingConfig"]["LogGroup"], f"/aws/lambda/{stack}-auth")
        self.assertEqual(config["LoggingConfig"]["LogFormat"], "JSON")
        login_env = lam.get_function(FunctionName=f"{stack}-login")["Configuration"]["Environment"]["Variables"]
        self.assertEqual(login_env["BUCKET_NAME"], outputs["BucketName"])
        policy = json.loads(lam.get_policy(FunctionName=f"{stack}-login")["Policy"])
        self.assertEqual(policy["Statement"][0]["Principal"], {"Service": "apigateway.amazonaws.com"})

        logs = self.moto.client("logs")
        groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{stack}-")["logGroups"]
        self.assertEqual({(g["logGroupName"], g.get("retentionInDays")) for g in groups},
                         {(f"/aws/lambda/{stack}-auth", 30), (f"/aws/lambda/{stack}-login", 30)})

        iam = self.moto.client("iam")
        self.assertEqual(sorted(iam.list_role_policies(RoleName=f"{stack}-login")["PolicyNames"]), ["data"])
        document = iam.get_role_policy(RoleName=f"{stack}-login", PolicyName="data")["PolicyDocument"]
        self.assertEqual(document["Statement"][1]["Resource"], f"arn:aws:dynamodb:us-east-1:123456789012:table/{stack}-logins")

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
        for version in self.s3.list_object_versions(Bucket=bucket).get("Versions", []) + self.s3.list_object_versions(Bucket=bucket).get("DeleteMarkers", []):
            self.s3.delete_object(Bucket=bucket, Key="probe", VersionId=version["VersionId"])

        ssm = self.moto.client("ssm")
        greetings = ssm.get_parameters_by_path(Path=f"/{stack}/greetings")["Parameters"]
        self.assertEqual(sorted(p["Value"] for p in greetings), ["Hello", "Shalom"])

    def assert_nothing_left(self, stack: str, ids: dict[str, str]) -> None:
        """Nothing of the stack is left in any service."""
        lam = self.moto.client("lambda")
        self.assertEqual([f["FunctionName"] for f in lam.list_functions()["Functions"] if f["FunctionName"].startswith(f"{stack}-")], [])
        iam = self.moto.client("iam")
        self.assertEqual([r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(f"{stack}-")], [])
        logs = self.moto.client("logs")
        self.assertEqual(logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{stack}-")["logGroups"], [])
        ssm = self.moto.client("ssm")
        self.assertEqual(ssm.get_parameters_by_path(Path=f"/{stack}", Recursive=True)["Parameters"], [])
        dynamodb = self.moto.client("dynamodb")
        self.assertNotIn(f"{stack}-logins", dynamodb.list_tables()["TableNames"])
        self.assertNotIn(ids["DataBucket"], [b["Name"] for b in self.s3.list_buckets()["Buckets"]])
        apigw = self.moto.client("apigateway")
        self.assertNotIn(ids["RestApi"], [a["id"] for a in apigw.get_rest_apis()["items"]])
        idp = self.moto.client("cognito-idp")
        self.assertNotIn(ids["UserPool"], [p["Id"] for p in idp.list_user_pools(MaxResults=60)["UserPools"]])
        self.assertNotIn("DomainDescription", {k: v for k, v in idp.describe_user_pool_domain(Domain=ids["UserPoolDomain"]).items() if v})

    @unittest.skipUnless(os.environ.get("TESTKIT_MOTO_TEMPLATE"), "set TESTKIT_MOTO_TEMPLATE to a synthesized template")
    def test_synthesized_template(self) -> None:
        """The product's real template (`cargo run -q -p xtask -- synth > t.json`):
        created, unchanged update FAILED, deleted, nothing left."""
        with open(os.environ["TESTKIT_MOTO_TEMPLATE"]) as file:
            template = json.load(file)

        def value(name: str, slot: dict[str, Any]) -> str:
            if name == "DomainPrefix":
                return "synth-test"
            if name.endswith("Bucket"):
                return "code"
            if name.endswith("Key"):
                return "auth-1.zip"
            return str(slot.get("Default", "x"))

        params = [{"ParameterKey": k, "ParameterValue": value(k, v)} for k, v in (template.get("Parameters") or {}).items()]
        created = self.deploy("synth", "create", template, params, "CREATE")
        failed = [(e["LogicalResourceId"], e.get("ResourceStatusReason")) for e in self.events("synth") if e["ResourceStatus"].endswith("FAILED")]
        self.assertEqual(created["StackStatus"], "CREATE_COMPLETE", failed)
        outputs = self.outputs("synth")
        self.assertEqual(set(outputs), set(template.get("Outputs") or {}))
        ids = self.physical_ids("synth")
        pools = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::Cognito::UserPool"]
        clients = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::Cognito::UserPoolClient"]
        for pool, client in zip(pools, clients):
            described = self.moto.client("cognito-idp").describe_user_pool_client(UserPoolId=ids[pool], ClientId=ids[client])
            self.assertTrue(described["UserPoolClient"].get("ClientSecret"))
        unchanged = self.change_set("synth", "same", template, params, "UPDATE")
        self.assertEqual((unchanged["Status"], unchanged["StatusReason"]), ("FAILED", NO_CHANGES))
        self.cf.delete_stack(StackName="synth")
        self.assert_stack_gone("synth")
        functions = self.moto.client("lambda").list_functions()["Functions"]
        self.assertEqual([f["FunctionName"] for f in functions if f["FunctionName"].startswith("synth-")], [])

    def test_every_type_updates_in_place(self) -> None:
        """A change to each resource of the stack reaches the service, and
        nothing is replaced that CloudFormation updates in place."""
        stack = "touch"
        self.deploy(stack, "c1", TEMPLATE, self.parameters("touch-signin"), "CREATE")
        ids = self.physical_ids(stack)
        dynamodb = self.moto.client("dynamodb")
        pitr = dynamodb.describe_continuous_backups(TableName="touch-logins")["ContinuousBackupsDescription"]
        self.assertEqual(pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"], "ENABLED")
        self.assertEqual(dynamodb.describe_table(TableName="touch-logins")["Table"]["SSEDescription"]["Status"], "ENABLED")

        template = copy.deepcopy(TEMPLATE)
        r = template["Resources"]
        r["Table"]["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] = False
        r["DataBucket"]["Properties"]["LifecycleConfiguration"]["Rules"][0]["NoncurrentVersionExpiration"]["NoncurrentDays"] = 7
        r["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Sid"] = "TlsOnlyToo"
        r["UserPool"]["Properties"]["Policies"]["PasswordPolicy"]["MinimumLength"] = 14
        r["UserPoolClient"]["Properties"]["AllowedOAuthScopes"] = ["openid", "email", "profile"]
        r["RestApi"]["Properties"]["Description"] = "new"
        r["Authorizer"]["Properties"]["IdentitySource"] = "method.request.header.X-Token"
        r["AuthMethod"]["Properties"]["OperationName"] = "callback"
        r["Stage"]["Properties"]["MethodSettings"][0]["ThrottlingBurstLimit"] = 5
        r["AuthLogGroup"]["Properties"]["RetentionInDays"] = 7
        r["AuthRole"]["Properties"]["Policies"][1]["PolicyDocument"]["Statement"][0]["Action"] = ["cognito-idp:DescribeUserPoolClient", "cognito-idp:DescribeUserPool"]
        r["LoginFunction"]["Properties"]["MemorySize"] = 256
        r["LoginFunction"]["Properties"]["LoggingConfig"]["LogFormat"] = "Text"
        r["GreetingParameter"]["Properties"]["Value"] = "Hi"
        del r["ShalomParameter"]
        del r["LoginPermission"]
        changes = self.change_set(stack, "c2", template, self.parameters("touch-signin"), "UPDATE")["Changes"]
        self.assertEqual({c["ResourceChange"]["LogicalResourceId"] for c in changes if c["ResourceChange"]["Action"] == "Remove"},
                         {"ShalomParameter", "LoginPermission"})
        self.assertEqual([c["ResourceChange"]["LogicalResourceId"] for c in changes if c["ResourceChange"].get("Replacement") == "True"], [])
        self.cf.execute_change_set(StackName=stack, ChangeSetName="c2")
        self.assertEqual(self.stack(stack)["StackStatus"], "UPDATE_COMPLETE")
        self.assertEqual(self.physical_ids(stack), {k: v for k, v in ids.items() if k not in ("ShalomParameter", "LoginPermission")})

        pitr = dynamodb.describe_continuous_backups(TableName="touch-logins")["ContinuousBackupsDescription"]
        self.assertEqual(pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"], "DISABLED")
        rules = self.s3.get_bucket_lifecycle_configuration(Bucket=ids["DataBucket"])["Rules"]
        self.assertEqual(rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"], 7)
        self.assertIn("TlsOnlyToo", self.s3.get_bucket_policy(Bucket=ids["DataBucket"])["Policy"])
        idp = self.moto.client("cognito-idp")
        self.assertEqual(idp.describe_user_pool(UserPoolId=ids["UserPool"])["UserPool"]["Policies"]["PasswordPolicy"]["MinimumLength"], 14)
        client = idp.describe_user_pool_client(UserPoolId=ids["UserPool"], ClientId=ids["UserPoolClient"])["UserPoolClient"]
        self.assertEqual(client["AllowedOAuthScopes"], ["openid", "email", "profile"])
        self.assertTrue(client["ClientSecret"])
        apigw = self.moto.client("apigateway")
        self.assertEqual(apigw.get_rest_api(restApiId=ids["RestApi"])["description"], "new")
        self.assertEqual(apigw.get_authorizer(restApiId=ids["RestApi"], authorizerId=ids["Authorizer"])["identitySource"], "method.request.header.X-Token")
        self.assertEqual(apigw.get_method(restApiId=ids["RestApi"], resourceId=ids["AuthResource"], httpMethod="GET")["operationName"], "callback")
        self.assertEqual(apigw.get_stage(restApiId=ids["RestApi"], stageName="prod")["methodSettings"]["*/*"]["throttlingBurstLimit"], 5)
        groups = self.moto.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/touch-auth")["logGroups"]
        self.assertEqual(groups[0]["retentionInDays"], 7)
        document = self.moto.client("iam").get_role_policy(RoleName="touch-auth", PolicyName="client")["PolicyDocument"]
        self.assertEqual(document["Statement"][0]["Action"], ["cognito-idp:DescribeUserPoolClient", "cognito-idp:DescribeUserPool"])
        lam = self.moto.client("lambda")
        config = lam.get_function(FunctionName="touch-login")["Configuration"]
        self.assertEqual((config["MemorySize"], config["LoggingConfig"]["LogFormat"]), (256, "Text"))
        with self.assertRaises(ClientError):  # its only permission is gone
            lam.get_policy(FunctionName="touch-login")
        ssm = self.moto.client("ssm")
        self.assertEqual([(p["Name"], p["Value"]) for p in ssm.get_parameters_by_path(Path="/touch/greetings")["Parameters"]],
                         [("/touch/greetings/1", "Hi")])
        self.cf.delete_stack(StackName=stack)
        self.assert_stack_gone(stack)
        self.assert_nothing_left(stack, ids)

    def test_new_deployment_logical_id_redeploys_the_stage(self) -> None:
        """How the product redeploys the API: the Deployment's logical id
        carries a hash of the methods, so a change adds a new Deployment,
        points the Stage at it and removes the old one in the cleanup."""
        stack = "redeploy"
        self.deploy(stack, "c1", TEMPLATE, self.parameters("redeploy-signin"), "CREATE")
        ids = self.physical_ids(stack)
        template = copy.deepcopy(TEMPLATE)
        r = template["Resources"]
        r["AuthMethod"]["Properties"]["OperationName"] = "callback"
        r["Deployment2"] = r.pop("Deployment")
        r["Stage"]["Properties"]["DeploymentId"] = {"Ref": "Deployment2"}
        changes = self.change_set(stack, "c2", template, self.parameters("redeploy-signin"), "UPDATE")["Changes"]
        self.assertEqual(
            sorted((c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"]) for c in changes),
            [("Add", "Deployment2"), ("Modify", "AuthMethod"), ("Modify", "Stage"), ("Remove", "Deployment")],
        )
        self.cf.execute_change_set(StackName=stack, ChangeSetName="c2")
        self.assertEqual(self.stack(stack)["StackStatus"], "UPDATE_COMPLETE")
        new_ids = self.physical_ids(stack)
        apigw = self.moto.client("apigateway")
        self.assertEqual(apigw.get_stage(restApiId=ids["RestApi"], stageName="prod")["deploymentId"], new_ids["Deployment2"])
        self.assertEqual([d["id"] for d in apigw.get_deployments(restApiId=ids["RestApi"])["items"]], [new_ids["Deployment2"]])
        events = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(self.events(stack))]
        self.assertLess(events.index(("Stage", "UPDATE_COMPLETE")), events.index(("Deployment", "DELETE_COMPLETE")))
        self.cf.delete_stack(StackName=stack)
        self.assert_stack_gone(stack)

    # -- failures -------------------------------------------------------------

    def test_failed_create_rolls_back_and_can_be_deleted(self) -> None:
        stack = "broken"
        params = self.parameters("broken-signin", AuthCodeKey="missing.zip")
        result = self.deploy(stack, "create", TEMPLATE, params, "CREATE")
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
            self.change_set(stack, "retry", TEMPLATE, self.parameters("broken-signin"), "UPDATE")
        self.assertIn("ROLLBACK_COMPLETE", str(caught.exception))
        self.cf.delete_stack(StackName=stack)
        self.assert_stack_gone(stack)
        again = self.deploy(stack, "create", TEMPLATE, self.parameters("broken-signin"), "CREATE")
        self.assertEqual(again["StackStatus"], "CREATE_COMPLETE")
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

    def test_parameters_are_checked_at_create_change_set(self) -> None:
        params = self.parameters("Not_A_Prefix")
        template = copy.deepcopy(TEMPLATE)
        template["Parameters"]["DomainPrefix"]["AllowedPattern"] = "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
        with self.assertRaises(ClientError) as caught:
            self.change_set("badparam", "c1", template, params, "CREATE")
        self.assertIn("Parameter 'DomainPrefix' must match pattern", str(caught.exception))
        with self.assertRaises(ClientError) as caught:
            good = self.parameters("good-prefix")
            self.change_set("badparam", "c1", template, [p for p in good if p["ParameterKey"] != "CodeBucket"], "CREATE")
        self.assertIn("Parameters: [CodeBucket] must have values", str(caught.exception))

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
