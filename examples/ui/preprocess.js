export default (data) => data.split('text":')[1].split(', "patient_id')[0].trim();
