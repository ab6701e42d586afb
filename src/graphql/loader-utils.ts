/** Helpers for per-request DataLoaders. */
import DataLoader from 'dataloader';

/** A loader keyed by id whose batch function returns results in key order. */
export function byKeyLoader<V>(batch: (keys: readonly string[]) => Promise<V[]>): DataLoader<string, V> {
  return new DataLoader<string, V>((keys) => batch(keys), { maxBatchSize: 1000 });
}

/** One loader per distinct argument (e.g. a `first` limit), created on first use. */
export function perArgument<A, V>(make: (arg: A) => DataLoader<string, V>): (arg: A) => DataLoader<string, V> {
  const loaders = new Map<A, DataLoader<string, V>>();
  return (arg) => {
    let l = loaders.get(arg);
    if (!l) {
      l = make(arg);
      loaders.set(arg, l);
    }
    return l;
  };
}
