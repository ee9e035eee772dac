import { useSyncExternalStore } from "react";
import { Session, type SessionState } from "./session";

/** The one session of the app. */
export const session = new Session();

export function useSession(): SessionState {
  return useSyncExternalStore(
    (listener) => session.subscribe(listener),
    () => session.current,
  );
}
