// What control/ needs of a place that keeps the control state: a name for messages, and an
// asynchronous save that resolves once the state is durable there (or rejects). The state file
// (file-store.ts) and the fleet's Redis (redis-store.ts) both are one.
export interface StateStore<T> {
  /** Says where the state lives, in messages: "the state file /var/lib/cutover/state.json". */
  readonly name: string;
  save(state: T): Promise<void>;
}
