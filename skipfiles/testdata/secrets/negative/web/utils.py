"""The shape of web.py's utils.py: sendmail hands the AWS credentials of the
configuration to boto, one keyword argument per line."""
import web


def _send_with_ses(from_address, recipients, message):
    import boto.ses
    connection = boto.ses.SESConnection(
        aws_access_key_id=web.config.get('AWS_ACCESS_KEY_ID'),
        aws_secret_access_key=web.config.get('AWS_SECRET_ACCESS_KEY'))
    return connection.send_raw_email(message, from_address, recipients)


def connect(region, aws_access_key_id=None,
            aws_secret_access_key=None, **kwargs):
    return web.storage(region=region,
                       aws_access_key_id=aws_access_key_id,
                       aws_secret_access_key=aws_secret_access_key,
                       **kwargs)
