"""The evidence photos' bucket of a stage (contract risk.md, "Evidence photos"): private, encrypted, its objects
expiring 180 days after upload (the lifecycle rule `python -m admin init-db` also sets on a local bucket:
chalicelib/store/evidence_objects.py), and the API function's EVIDENCE_BUCKET pointing at it.

Bucket names are global: the stage's is `greensprout-STAGE-evidence-ACCOUNT_ID`. The API function may put
objects (a presigned POST is signed with its role's credentials, so S3 checks the upload against the role:
s3:PutObject), get them (the check-in's hash read), list its users' own prefixes and delete objects (the account
erasure, services/erasure.py), all on the `evidence/` prefix only (infra/aws/policy.py).
"""
from __future__ import annotations

from chalicelib.store.evidence_objects import LIFECYCLE_DAYS, LIFECYCLE_RULE_ID

from .models import APP_NAME

LOGICAL_ID = "EvidenceBucket"
PREFIX = "evidence/"
API_OBJECT_ACTIONS = ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")
# The transparency record's leaves files (chalicelib/store/transparency_objects.py), outside the lifecycle rule's
# prefix: the roots job (the jobs' worker) puts them, the API reads them for a proof; nobody deletes them.
TRANSPARENCY_PREFIX = "transparency/"
WORKER = "jobs_worker"  # chalicelib/scheduling.py WORKER
BUCKET_USERS = ("api_handler", WORKER)  # the functions given EVIDENCE_BUCKET


def bucket_name(stage: str) -> dict:
    return {"Fn::Sub": f"{APP_NAME}-{stage}-evidence-${{AWS::AccountId}}"}


def bucket_arn_pattern(stage: str) -> str:
    """The bucket's ARN in the API's static policy file (the account id as `*`, like the tables' ARNs)."""
    return f"arn:*:s3:::{APP_NAME}-{stage}-evidence-*"


def resources(stage: str) -> dict:
    policy = "Retain" if stage == "prod" else "Delete"
    return {LOGICAL_ID: {
        "Type": "AWS::S3::Bucket", "DeletionPolicy": policy, "UpdateReplacePolicy": policy,
        "Properties": {
            "BucketName": bucket_name(stage),
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": [{"Id": LIFECYCLE_RULE_ID, "Status": "Enabled", "Prefix": PREFIX,
                                                  "ExpirationInDays": LIFECYCLE_DAYS}]},
        }}}


def api_environment(stage: str) -> dict:
    return {"EVIDENCE_BUCKET": bucket_name(stage)}


def api_statements(stage: str) -> list[dict]:
    arn = bucket_arn_pattern(stage)
    return [
        {"Sid": "EvidenceObjects", "Effect": "Allow", "Action": list(API_OBJECT_ACTIONS),
         "Resource": f"{arn}/{PREFIX}*"},
        {"Sid": "EvidenceList", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": arn,
         "Condition": {"StringLike": {"s3:prefix": [f"{PREFIX}*"]}}},
        {"Sid": "TransparencyRead", "Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": f"{arn}/{TRANSPARENCY_PREFIX}*"},
    ]


def statements(stage: str, function: str) -> list[dict]:
    """What a function may do in the bucket: the API's statements, the worker's, nothing for the others."""
    if function == "api_handler":
        return api_statements(stage)
    return worker_statements(stage) if function == WORKER else []


def worker_statements(stage: str) -> list[dict]:
    """The jobs' worker writes the transparency leaves files (and reads them back for a check); nothing else."""
    return [{"Sid": "TransparencyFiles", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
             "Resource": f"{bucket_arn_pattern(stage)}/{TRANSPARENCY_PREFIX}*"}]
