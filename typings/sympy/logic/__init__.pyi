# sympy.logic: only the boolalg submodule is used (its Boolean hierarchy).
from sympy.logic import boolalg as boolalg
