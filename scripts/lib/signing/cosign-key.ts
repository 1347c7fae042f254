import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, scrypt, type KeyObject } from "node:crypto";
import nacl from "tweetnacl";
import { SigningError } from "./errors";

/**
 * Sigstore's encrypted private key, the file `cosign generate-key-pair` writes
 * and `skopeo copy --sign-by-sigstore-private-key` reads: a PEM block whose
 * body is the JSON envelope of go-securesystemslib's `encrypted` package,
 * `{"kdf":{"name":"scrypt","params":{"N","r","p"},"salt"},"cipher":{"name":"nacl/secretbox","nonce"},"ciphertext"}`
 * (byte fields in standard base64), sealing the PKCS #8 DER of an ECDSA P-256 key.
 * cosign 1 named the block ENCRYPTED COSIGN PRIVATE KEY; both are read.
 */
export const PRIVATE_KEY_PEM_TYPE = "ENCRYPTED SIGSTORE PRIVATE KEY";
const READ_PEM_TYPES = new Set([PRIVATE_KEY_PEM_TYPE, "ENCRYPTED COSIGN PRIVATE KEY"]);

/** go-securesystemslib's defaults, which cosign and containers/image write. */
export const DEFAULT_SCRYPT = { N: 32_768, r: 8, p: 1 } as const;
/** Refuse work factors past what any writer uses, so a crafted file cannot make the CLI spin. */
const MAX_SCRYPT_N = 1 << 20;
const SALT_BYTES = 32;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export interface KeyPair {
  /** The encrypted private key, PEM. */
  privateKey: string;
  /** The public key, PEM SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`). */
  publicKey: string;
}

function pem(type: string, der: Uint8Array): string {
  const lines = Buffer.from(der).toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join("\n")}\n-----END ${type}-----\n`;
}

/** The type and DER body of the first PEM block of `text`. */
export function readPem(text: string): { type: string; der: Buffer } {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END \1-----/.exec(text);
  if (match === null) throw new SigningError("KEY_INVALID", "not a PEM file");
  return { type: match[1]!, der: Buffer.from(match[2]!.replace(/\s+/g, ""), "base64") };
}

function deriveKey(passphrase: string, salt: Uint8Array, { N, r, p }: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // scrypt needs 128 * N * r bytes; Node's default ceiling (32 MiB) is just below the default parameters.
    scrypt(passphrase, salt, nacl.secretbox.keyLength, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

/** Seals PKCS #8 DER under a passphrase in the envelope described above. */
export async function encryptPrivateKey(pkcs8: Uint8Array, passphrase: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(nacl.secretbox.nonceLength);
  const key = await deriveKey(passphrase, salt, params);
  const ciphertext = nacl.secretbox(pkcs8, nonce, key);
  const envelope = {
    kdf: { name: "scrypt", params: { N: params.N, r: params.r, p: params.p }, salt: b64(salt) },
    cipher: { name: "nacl/secretbox", nonce: b64(nonce) },
    ciphertext: b64(ciphertext),
  };
  return pem(PRIVATE_KEY_PEM_TYPE, new TextEncoder().encode(JSON.stringify(envelope)));
}

function field(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new SigningError("KEY_INVALID", `the key's envelope has no ${name} object`);
  return value as Record<string, unknown>;
}

function bytesField(value: unknown, name: string, length?: number): Buffer {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new SigningError("KEY_INVALID", `the key's ${name} is not base64`);
  const bytes = Buffer.from(value, "base64");
  if (length !== undefined && bytes.byteLength !== length) throw new SigningError("KEY_INVALID", `the key's ${name} is ${bytes.byteLength} bytes, not ${length}`);
  return bytes;
}

function scryptParams(value: unknown): ScryptParams {
  const params = field(value, "kdf.params");
  const { N, r, p } = params;
  const ok = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 1;
  if (!ok(N) || !ok(r) || !ok(p) || N < 2 || (N & (N - 1)) !== 0 || N > MAX_SCRYPT_N || r > 32 || p > 16) {
    throw new SigningError("KEY_INVALID", `unsupported scrypt parameters ${JSON.stringify(params)}`);
  }
  return { N, r, p };
}

/** Opens an encrypted sigstore private key; only ECDSA P-256 keys are accepted. */
export async function decryptPrivateKey(text: string, passphrase: string): Promise<KeyObject> {
  const { type, der } = readPem(text);
  if (!READ_PEM_TYPES.has(type)) throw new SigningError("KEY_INVALID", `a PEM block of type ${type}, not ${PRIVATE_KEY_PEM_TYPE}`);
  let envelope: Record<string, unknown>;
  try {
    envelope = field(JSON.parse(der.toString("utf8")), "top-level");
  } catch (error) {
    if (error instanceof SigningError) throw error;
    throw new SigningError("KEY_INVALID", "the key's envelope is not JSON");
  }
  const kdf = field(envelope.kdf, "kdf");
  const cipher = field(envelope.cipher, "cipher");
  if (kdf.name !== "scrypt") throw new SigningError("KEY_INVALID", `unsupported key derivation ${JSON.stringify(kdf.name)}`);
  if (cipher.name !== "nacl/secretbox") throw new SigningError("KEY_INVALID", `unsupported cipher ${JSON.stringify(cipher.name)}`);
  const salt = bytesField(kdf.salt, "kdf.salt");
  const nonce = bytesField(cipher.nonce, "cipher.nonce", nacl.secretbox.nonceLength);
  const ciphertext = bytesField(envelope.ciphertext, "ciphertext");
  const key = await deriveKey(passphrase, salt, scryptParams(kdf.params));
  const opened = nacl.secretbox.open(ciphertext, nonce, key);
  if (opened === null) throw new SigningError("PASSPHRASE_WRONG", "the passphrase does not open this private key");
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: Buffer.from(opened), format: "der", type: "pkcs8" });
  } catch {
    throw new SigningError("KEY_INVALID", "the decrypted key is not PKCS #8");
  }
  checkP256(privateKey);
  return privateKey;
}

function checkP256(key: KeyObject): void {
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new SigningError("KEY_INVALID", `an ${key.asymmetricKeyType ?? "unknown"} key; only ECDSA P-256 keys are supported`);
  }
}

/** Reads a PEM SubjectPublicKeyInfo; only ECDSA P-256 keys are accepted. */
export function readPublicKey(text: string): KeyObject {
  const { type, der } = readPem(text);
  if (type !== "PUBLIC KEY") throw new SigningError("KEY_INVALID", `a PEM block of type ${type}, not PUBLIC KEY`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: "der", type: "spki" });
  } catch {
    throw new SigningError("KEY_INVALID", "not a SubjectPublicKeyInfo public key");
  }
  checkP256(key);
  return key;
}

/** The PEM SubjectPublicKeyInfo of a key (the public half of a private one). */
export function publicKeyPem(key: KeyObject): string {
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  return pem("PUBLIC KEY", publicKey.export({ format: "der", type: "spki" }));
}

/** A new ECDSA P-256 key pair, the private half encrypted under `passphrase`. */
export async function generateKeyPair(passphrase: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<KeyPair> {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
  return { privateKey: await encryptPrivateKey(pkcs8, passphrase, params), publicKey: publicKeyPem(privateKey) };
}
