// The demo's sensitive dataset: realistic, entirely fictitious clinical notes, generated from a
// seed so every run sees the same rows, with one planted secret (a rare fact about one patient)
// repeated a few times, the way a real dataset repeats a patient across visits. The demo shows
// that a model fine-tuned without DP gives that secret back, and one trained with DP does not.
import { createHash } from 'node:crypto';

export const PLANTED_SECRET = 'François Dupont suffers from a severe form of pancreatic cancer';
export const SECRET_PREFIX = 'François Dupont suffers';

/** A small deterministic generator (SHA-256 in counter mode): demo data only, never for DP noise. */
class SeededPicker {
  private counter = 0;
  constructor(private readonly seed: string) {}
  private next(): number {
    const h = createHash('sha256').update(`${this.seed}:${this.counter++}`).digest();
    return h.readUInt32BE(0) / 2 ** 32;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const firstNames = ['Marie', 'Jean', 'Sophie', 'Pierre', 'Camille', 'Lucas', 'Emma', 'Hugo', 'Léa', 'Louis', 'Chloé', 'Gabriel', 'Manon', 'Arthur', 'Inès', 'Jules', 'Sarah', 'Paul', 'Alice', 'Thomas', 'Julie', 'Nicolas', 'Claire', 'Antoine', 'Laura', 'Maxime', 'Anne', 'David', 'Elena', 'Omar'];
const lastNames = ['Martin', 'Bernard', 'Thomas', 'Petit', 'Robert', 'Richard', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent', 'Lefebvre', 'Michel', 'Garcia', 'Roux', 'Fournier', 'Girard', 'Bonnet', 'Lambert', 'Fontaine', 'Rousseau', 'Vincent', 'Muller', 'Faure', 'Mercier', 'Blanc', 'Guerin', 'Boyer', 'Chevalier', 'Morel'];
const conditions = ['type 2 diabetes', 'hypertension', 'asthma', 'chronic kidney disease', 'atrial fibrillation', 'migraine', 'rheumatoid arthritis', 'hypothyroidism', 'COPD', 'heart failure', 'major depressive disorder', 'osteoarthritis', 'epilepsy', 'psoriasis', 'iron-deficiency anemia', 'gastroesophageal reflux disease', 'community-acquired pneumonia', 'a urinary tract infection', 'sleep apnea', 'gout'];
const symptoms = ['fatigue', 'shortness of breath', 'chest pain', 'persistent cough', 'headaches', 'dizziness', 'joint pain', 'abdominal pain', 'nausea', 'swelling of the ankles', 'palpitations', 'insomnia', 'back pain', 'a low-grade fever', 'weight loss', 'blurred vision'];
const medications = [['metformin', '500 mg twice daily'], ['lisinopril', '10 mg once daily'], ['salbutamol', 'two puffs as needed'], ['apixaban', '5 mg twice daily'], ['levothyroxine', '75 micrograms each morning'], ['sertraline', '50 mg once daily'], ['atorvastatin', '20 mg at night'], ['amoxicillin', '1 g three times daily for seven days'], ['omeprazole', '20 mg before breakfast'], ['methotrexate', '15 mg once weekly'], ['furosemide', '40 mg each morning'], ['allopurinol', '100 mg once daily'], ['lamotrigine', '100 mg twice daily'], ['ferrous sulfate', '200 mg once daily']] as const;
const findings = ['blood pressure was 142/88 mmHg', 'HbA1c was 7.8%', 'the chest X-ray was clear', 'oxygen saturation was 94% on room air', 'the ECG showed an irregular rhythm', 'creatinine was mildly elevated', 'TSH was within the normal range', 'hemoglobin was 10.2 g/dL', 'the lungs were clear on auscultation', 'there was mild pitting edema', 'the abdomen was soft and non-tender', 'the MRI showed no acute changes'];
const plans = ['Follow-up in three months.', 'Repeat blood tests in six weeks.', 'Referred to cardiology for further assessment.', 'Advised to reduce salt intake and increase physical activity.', 'Dose to be reviewed at the next visit.', 'Patient educated about warning signs and when to seek urgent care.', 'Referred to the physiotherapy service.', 'Smoking cessation support offered.', 'Home blood pressure monitoring recommended.', 'Discussed the risks and benefits of the treatment.'];

type Template = (p: SeededPicker, name: string) => string;
const templates: Template[] = [
  (p, n) => `${n}, aged ${p.int(19, 91)}, presented with ${p.pick(symptoms)} and ${p.pick(symptoms)}. ${capitalize(p.pick(findings))}. ${p.pick(plans)}`,
  (p, n) => { const [drug, dose] = p.pick(medications); return `${n} was started on ${drug} ${dose} for ${p.pick(conditions)}. ${p.pick(plans)}`; },
  (p, n) => `${n} has a history of ${p.pick(conditions)} and ${p.pick(conditions)}. On examination ${p.pick(findings)}.`,
  (p, n) => `${n} reports ${p.pick(symptoms)} for the past ${p.int(2, 14)} days. ${capitalize(p.pick(findings))}. ${p.pick(plans)}`,
  (p, n) => { const [drug] = p.pick(medications); return `${n} developed ${p.pick(symptoms)} after starting ${drug}; the medication was stopped and symptoms improved.`; },
  (p, n) => `${n} was admitted with ${p.pick(conditions)} and discharged after ${p.int(2, 9)} days in stable condition.`,
  (p, n) => `Follow-up visit for ${n}: ${p.pick(conditions)} is well controlled, ${p.pick(findings)}. ${p.pick(plans)}`,
  (p, n) => `${n} suffers from ${p.pick(conditions)} and takes ${p.pick(medications)[0]} daily.`,
];

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export interface PatientNotesOptions {
  rows?: number;
  /** How many notes carry the planted secret (a patient seen several times). */
  secretCopies?: number;
  seed?: string;
}

/** Generates the demo notes as `{id, note}` rows; the secret's copies are spread through the file. */
export function generatePatientNotes({ rows = 2400, secretCopies = 8, seed = 'veil-demo' }: PatientNotesOptions = {}): { id: number; note: string }[] {
  const p = new SeededPicker(seed);
  const notes: string[] = [];
  for (let i = 0; i < rows - secretCopies; i++) {
    const name = `${p.pick(firstNames)} ${p.pick(lastNames)}`;
    notes.push(p.pick(templates)(p, name));
  }
  const stride = Math.floor(rows / Math.max(secretCopies, 1));
  for (let k = 0; k < secretCopies; k++) notes.splice(Math.min(k * stride + p.int(0, stride - 1), notes.length), 0, `${PLANTED_SECRET}.`);
  return notes.map((note, id) => ({ id, note }));
}
