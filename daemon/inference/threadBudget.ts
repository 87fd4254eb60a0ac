import { availableParallelism } from 'node:os';

/** What the thread plan is computed from (config `inference:` plus what the streams will load). */
export interface ThreadBudgetInput {
  /** Cores of the machine (default: availableParallelism()). */
  cores?: number;
  /** `inference.threads`: intra-op threads shared by every session; null/undefined = the cores. */
  budget?: number | null;
  /** Distinct models the configured analytics will load (at least 1). */
  models: number;
  /** `models.intra_op_threads` when set above 0: a fixed per-session count (overrides the split). */
  perSession?: number | null;
  /** `inference.spinning`: 'auto' turns spinning off unless one model has cores to itself. */
  spinning?: 'auto' | boolean;
}

/** The ORT threading every session gets; logged once at start. */
export interface ThreadPlan {
  cores: number;
  budget: number;
  models: number;
  intraOp: number;
  interOp: number;
  /** session.intra_op.allow_spinning: spinning workers burn the cores that ffmpeg, Node and other sessions need. */
  spinning: boolean;
}

/**
 * One budget of intra-op threads for the machine, split across the models that will load.
 * Spinning is off wherever sessions share cores with each other or with the decoders
 * (measured: two sessions on 2 cores run 1.6-1.8x faster without it); a lone model given
 * fewer threads than cores may keep it.
 */
export function planThreads(input: ThreadBudgetInput): ThreadPlan {
  const cores = Math.max(1, input.cores ?? availableParallelism());
  const budget = Math.max(1, Math.floor(input.budget ?? cores));
  const models = Math.max(1, Math.floor(input.models));
  const split = Math.max(1, Math.round(budget / models));
  const intraOp = input.perSession && input.perSession > 0 ? input.perSession : split;
  const shared = models > 1 || intraOp * models >= cores;
  const spinning = input.spinning === true || (input.spinning !== false && !shared);
  return { cores, budget, models, intraOp, interOp: 1, spinning };
}

/** How one model runs its share of the budget: `replicas` sessions of `intraOp` threads each. */
export interface SessionPlan {
  replicas: number;
  intraOp: number;
  spinning: boolean;
}

/**
 * Splits a model's share of threads into sessions for the streams that share it. Each stream
 * keeps one frame in flight, so N streams can keep N single-thread sessions busy, with no
 * barrier between threads that a busy core stalls (measured, yolox_nano on 2 cores: 94 vs 68
 * inferences/s quiet, 63 vs 49 beside a busy core, 21 vs 25-28 CPU-ms each). A lone stream keeps
 * one session with every thread: its frames come one at a time. `wanted`: config
 * `inference.sessions_per_model` ('auto' = the streams); a fixed per-session count keeps one.
 */
export function sessionsFor(plan: ThreadPlan, streams: number, wanted: 'auto' | number = 'auto', fixedPerSession = false): SessionPlan {
  if (fixedPerSession) return { replicas: 1, intraOp: plan.intraOp, spinning: plan.spinning };
  const want = wanted === 'auto' ? streams : wanted;
  const replicas = Math.max(1, Math.min(Math.floor(want), plan.intraOp));
  return { replicas, intraOp: Math.max(1, Math.floor(plan.intraOp / replicas)), spinning: plan.spinning && replicas === 1 };
}
