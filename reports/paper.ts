// The DCNet paper's CIFAR-10 robustness tables (accuracy %, Liu et al. CVPR 2018), set
// beside our numbers. The paper compares only bounded operators with the baseline and
// does not publish epsilon, BIM settings, the training recipe or the source model.
export const PAPER_COLUMNS = ['standard', 'sphere-cosine', 'ball-cosine', 'tanh-cosine'] as const;

type Row = [number, number, number, number];

export interface PaperTable {
  caption: string;
  rows: Array<{ training: 'standard' | 'fgsm-at'; attack: 'none' | 'fgsm' | 'bim'; values: Row }>;
}

/** Clean accuracies: the paper prints them in both tables. */
const CLEAN = {
  standard: { training: 'standard', attack: 'none', values: [85.35, 88.58, 91.13, 91.45] },
  fgsmAt: { training: 'fgsm-at', attack: 'none', values: [83.7, 87.41, 87.47, 87.54] },
} as const satisfies Record<string, PaperTable['rows'][number]>;

export const PAPER_WHITE_BOX: PaperTable = {
  caption: 'Paper, white-box, CIFAR-10 (not comparable in absolute terms: other data, model and epsilon)',
  rows: [
    CLEAN.standard,
    { training: 'standard', attack: 'fgsm', values: [18.82, 43.64, 50.47, 52.6] },
    { training: 'standard', attack: 'bim', values: [8.67, 8.89, 7.74, 10.18] },
    CLEAN.fgsmAt,
    { training: 'fgsm-at', attack: 'fgsm', values: [78.96, 85.98, 82.2, 81.46] },
    { training: 'fgsm-at', attack: 'bim', values: [7.96, 35.07, 17.38, 19.86] },
  ],
};

export const PAPER_BLACK_BOX: PaperTable = {
  caption: 'Paper, black-box transfer, CIFAR-10 (source model not published)',
  rows: [
    CLEAN.standard,
    { training: 'standard', attack: 'fgsm', values: [50.9, 56.71, 49.5, 50.61] },
    { training: 'standard', attack: 'bim', values: [36.22, 43.1, 27.48, 29.06] },
    CLEAN.fgsmAt,
    { training: 'fgsm-at', attack: 'fgsm', values: [77.57, 76.29, 78.67, 80.38] },
    { training: 'fgsm-at', attack: 'bim', values: [78.55, 77.79, 80.59, 82.47] },
  ],
};
