"""The AWS deployment, generated from the code: DynamoDB tables and the IAM policy from the PynamoDB
models (chalicelib/store/tables.py: ALL_MODELS), API Gateway settings, and the `make package` driver.

Build tools only: nothing deployed imports this package (Lambda runs app.py and chalicelib/ alone).
"""
