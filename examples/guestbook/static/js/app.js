document.addEventListener('DOMContentLoaded', function () {
  var box = document.querySelector('textarea');
  if (box) { box.focus(); }
});
