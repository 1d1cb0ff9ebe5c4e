"""SES gateway: a message stored in S3 by SES (Mail Manager WriteToS3 or a receipt rule),
edited by mimeguard, sent on with SES v2 SendEmail.

Configured by the MIMEGUARD_* environment variables that template.yaml sets: the
same recipe variables as the WorkMail Lambda (examples/workmail-lambda).
"""

from mimeguard.ses import handle
from mimeguard.workmail import Recipe

RECIPE = Recipe.from_env()  # MIMEGUARD_DISCLAIMER_TEXT, MIMEGUARD_STRIP, MIMEGUARD_ON_FAILURE, ...


def lambda_handler(event, context):
    return handle(event, RECIPE, context=context)
