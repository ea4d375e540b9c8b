export { assessColumnMissingness, ingestData, recodeMissingCodes, splitByRowMissingness } from './cleaning';
