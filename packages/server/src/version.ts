/** The Cloister release this code belongs to; it is part of the workload manifest. */
export const VERSION = "0.1.0";
