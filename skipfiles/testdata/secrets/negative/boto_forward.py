def make_client(aws_access_key_id=None, aws_secret_access_key=None):
    return Client(
        aws_access_key_id=aws_access_key_id,
        aws_secret_access_key=aws_secret_access_key,
    )
