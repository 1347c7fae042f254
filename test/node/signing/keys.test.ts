import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decryptPrivateKey, encryptPrivateKey, generateKeyPair, PRIVATE_KEY_PEM_TYPE, publicKeyPem, readPem, readPublicKey } from "../../../scripts/lib/signing/cosign-key";
import { SigningError } from "../../../scripts/lib/signing/errors";
import { signPayload, verifyPayload } from "../../../scripts/lib/signing/sigstore-signature";

/** Cheap scrypt parameters keep the tests fast; the default ones are tested once. */
const FAST = { N: 1024, r: 8, p: 1 };

function envelope(pem: string): Record<string, any> {
  return JSON.parse(readPem(pem).der.toString("utf8"));
}

function rewrap(pem: string, change: (value: Record<string, any>) => void, type = PRIVATE_KEY_PEM_TYPE): string {
  const value = envelope(pem);
  change(value);
  return `-----BEGIN ${type}-----\n${Buffer.from(JSON.stringify(value)).toString("base64")}\n-----END ${type}-----\n`;
}

describe("sigstore encrypted private keys", () => {
  it("Should write the envelope cosign and containers/image read, with their default scrypt parameters", async () => {
    const pair = await generateKeyPair("passphrase");
    expect(pair.privateKey).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    const value = envelope(pair.privateKey);
    expect(value.kdf).toMatchObject({ name: "scrypt", params: { N: 32768, r: 8, p: 1 } });
    expect(Buffer.from(value.kdf.salt, "base64")).toHaveLength(32);
    expect(value.cipher.name).toBe("nacl/secretbox");
    expect(Buffer.from(value.cipher.nonce, "base64")).toHaveLength(24);
    // PKCS #8 of a P-256 key (138 bytes) plus the 16-byte Poly1305 tag.
    expect(Buffer.from(value.ciphertext, "base64")).toHaveLength(138 + 16);
    const key = await decryptPrivateKey(pair.privateKey, "passphrase");
    expect(publicKeyPem(key)).toBe(pair.publicKey);
  });

  it("Should refuse a wrong passphrase", async () => {
    const pair = await generateKeyPair("right", FAST);
    await expect(decryptPrivateKey(pair.privateKey, "wrong")).rejects.toMatchObject({ code: "PASSPHRASE_WRONG" });
  });

  it("Should read the cosign 1 PEM type too", async () => {
    const pair = await generateKeyPair("", FAST);
    const old = rewrap(pair.privateKey, () => undefined, "ENCRYPTED COSIGN PRIVATE KEY");
    expect(publicKeyPem(await decryptPrivateKey(old, ""))).toBe(pair.publicKey);
  });

  it("Should refuse a tampered ciphertext", async () => {
    const pair = await generateKeyPair("p", FAST);
    const tampered = rewrap(pair.privateKey, (value) => {
      const bytes = Buffer.from(value.ciphertext, "base64");
      bytes[5]! ^= 1;
      value.ciphertext = bytes.toString("base64");
    });
    await expect(decryptPrivateKey(tampered, "p")).rejects.toMatchObject({ code: "PASSPHRASE_WRONG" });
  });

  it.each([
    ["an unknown KDF", (value: Record<string, any>) => (value.kdf.name = "pbkdf2")],
    ["an unknown cipher", (value: Record<string, any>) => (value.cipher.name = "aes-gcm")],
    ["an N that is not a power of two", (value: Record<string, any>) => (value.kdf.params.N = 1000)],
    ["an N too large to derive quickly", (value: Record<string, any>) => (value.kdf.params.N = 1 << 24)],
    ["a short nonce", (value: Record<string, any>) => (value.cipher.nonce = Buffer.alloc(12).toString("base64"))],
  ])("Should refuse an envelope with %s", async (_, change) => {
    const pair = await generateKeyPair("p", FAST);
    await expect(decryptPrivateKey(rewrap(pair.privateKey, change), "p")).rejects.toMatchObject({ code: "KEY_INVALID" });
  });

  it("Should refuse a key that is not ECDSA P-256", async () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
    const pem = await encryptPrivateKey(privateKey.export({ format: "der", type: "pkcs8" }), "p", FAST);
    await expect(decryptPrivateKey(pem, "p")).rejects.toThrow(/only ECDSA P-256/);
  });

  it("Should refuse a PEM block of another type", async () => {
    await expect(decryptPrivateKey("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "")).rejects.toBeInstanceOf(SigningError);
  });
});

describe("public keys and signatures", () => {
  it("Should read the PEM public key it writes", async () => {
    const pair = await generateKeyPair("", FAST);
    const key = readPublicKey(pair.publicKey);
    expect(key.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
  });

  it("Should refuse an RSA public key", () => {
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    expect(() => readPublicKey(publicKey.export({ format: "pem", type: "spki" }) as string)).toThrow(/only ECDSA P-256/);
  });

  it("Should sign in ASN.1 DER, base64, and verify only the same bytes with the same key", async () => {
    const pair = await generateKeyPair("", FAST);
    const key = await decryptPrivateKey(pair.privateKey, "");
    const payload = new TextEncoder().encode('{"critical":{}}');
    const signature = signPayload(key, payload);
    expect(Buffer.from(signature, "base64")[0]).toBe(0x30);
    const publicKey = readPublicKey(pair.publicKey);
    expect(verifyPayload(publicKey, payload, signature)).toBe(true);
    expect(verifyPayload(publicKey, new TextEncoder().encode('{"critical":{} }'), signature)).toBe(false);
    const other = createPublicKey((await generateKeyPair("", FAST)).publicKey);
    expect(verifyPayload(other, payload, signature)).toBe(false);
    expect(verifyPayload(publicKey, payload, "not base64!")).toBe(false);
  });
});
