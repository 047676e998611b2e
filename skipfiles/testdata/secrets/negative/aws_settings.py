import os

AWS_ACCESS_KEY_ID = os.environ.get("AWS_ACCESS_KEY_ID", "")
AWS_SECRET_ACCESS_KEY = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
aws_secret_access_key = settings.AWS_SECRET_ACCESS_KEY
aws_secret_access_key = AWS_SECRET_ACCESS_KEY_FROM_THE_ENVIRONMENT
aws_secret_access_key: ${AWS_SECRET_ACCESS_KEY}
