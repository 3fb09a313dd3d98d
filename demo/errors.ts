/**
 * The one error type the shop's own code throws: an HTTP status and a message safe to show.
 */

/** A request the shop refuses, with the status and message the client gets. */
export class ShopError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'ShopError';
    this.status = status;
  }
}
