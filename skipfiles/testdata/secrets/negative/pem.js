const HEADER = '-----BEGIN PRIVATE KEY-----';
const FOOTER = '-----END PRIVATE KEY-----';

export function stripArmor(text) {
  return text.replace(HEADER, '').replace(FOOTER, '').replace(/\s+/g, '');
}
