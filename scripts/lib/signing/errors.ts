import { CliError } from "../cli/error";

/** Why a key, a signature or a signed image was refused; the message says which and why. */
export type SigningErrorCode =
  | "KEY_INVALID"
  | "PASSPHRASE_WRONG"
  | "PAYLOAD_INVALID"
  | "SIGNATURE_INVALID"
  | "SIGNATURE_MISSING"
  | "IDENTITY_MISMATCH"
  | "DIGEST_MISMATCH"
  | "GPG_FAILED"
  | "SOURCE_INVALID";

/** Exits the CLI with 1; `frontdoor` prints the code before the message. */
export class SigningError extends CliError {
  override name = "SigningError";
  constructor(
    readonly code: SigningErrorCode,
    message: string,
  ) {
    super(message);
  }
}
