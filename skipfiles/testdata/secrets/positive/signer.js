'use strict';
const crypto = require('crypto');

const KEY = {{rsa-pkcs8|concat}};

module.exports = (data) => crypto.sign('sha256', Buffer.from(data), KEY);
