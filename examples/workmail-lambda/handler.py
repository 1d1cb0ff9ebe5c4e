"""Amazon WorkMail synchronous Run Lambda rule: add a disclaimer to mail in transit.

Configured by the MIMEGUARD_* environment variables that template.yaml sets.
"""

from mimeguard.workmail import Recipe, handle

RECIPE = Recipe.from_env()  # MIMEGUARD_DISCLAIMER_TEXT, MIMEGUARD_SUBJECT_PREFIX, ...


def lambda_handler(event, context):
    return handle(event, RECIPE, context=context)
