import boto

def bucket():
    conn = boto.connect_s3(aws_access_key_id='AKIAIOSFODNN7ZZZZZZZ',
                           aws_secret_access_key='{{aws-secret}}')
    return conn.get_bucket('uploads')
