/**
 * Training stopped because a number it depends on stopped being finite: the loss or the gradient
 * norm of a step, a loss estimate, or a weight or optimizer moment about to be saved. Nothing
 * non-finite is ever written to a checkpoint; the CLI exits non-zero on this error.
 */
export class NonFiniteLossError extends Error {
  /**
   * @param iter the iteration it was seen at
   * @param quantity "loss", "gradient norm", "train loss estimate", "val loss estimate",
   *   'weight "<name>"' or 'optimizer moment "<name>"'
   */
  constructor(readonly iter: number, readonly quantity: string, readonly value: number) {
    super(`${quantity} is ${value} at iter ${iter}: training stopped, nothing non-finite saved (try a lower learning rate or gradient clipping)`);
    this.name = "NonFiniteLossError";
  }
}
